package prefetch

// Armed returns how many passthrough timers are armed.
func (p *Prefetcher) Armed() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.armed)
}
