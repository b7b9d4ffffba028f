// Package notifytest is a NOTIFY_SOCKET listener for tests: it stands in for
// systemd's notification socket and records every sd_notify message.
package notifytest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// maxSocketPath leaves room for the NUL of sockaddr_un.sun_path (108 bytes).
const maxSocketPath = 107

// Listener receives sd_notify datagrams on a unixgram socket.
type Listener struct {
	path string
	conn *net.UnixConn
	done chan struct{} // closed when the reader goroutine exits

	mu      sync.Mutex    // guards lines and changed
	lines   []string      // guarded by mu
	changed chan struct{} // guarded by mu; closed and replaced on every new datagram
}

// Listen opens a listener in a temporary directory; it is closed, and its
// reader stopped, in t.Cleanup.
func Listen(t testing.TB) *Listener {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "notify.sock")
	if len(path) > maxSocketPath {
		// Long test names make long temp dirs; a unix socket path must be short.
		short, err := os.MkdirTemp("", "notify")
		if err != nil {
			t.Fatalf("notifytest: %v", err)
		}
		t.Cleanup(func() { os.RemoveAll(short) })
		path = filepath.Join(short, "notify.sock")
	}
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatalf("notifytest: listen %s: %v", path, err)
	}
	l := &Listener{path: path, conn: conn, done: make(chan struct{}), changed: make(chan struct{})}
	go l.read()
	t.Cleanup(func() {
		conn.Close()
		<-l.done
	})
	return l
}

func (l *Listener) read() {
	defer close(l.done)
	buf := make([]byte, 64<<10)
	for {
		n, _, err := l.conn.ReadFromUnix(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		lines := strings.Split(strings.TrimRight(string(buf[:n]), "\n"), "\n")
		l.mu.Lock()
		l.lines = append(l.lines, lines...)
		close(l.changed)
		l.changed = make(chan struct{})
		l.mu.Unlock()
	}
}

// Path is the socket's path.
func (l *Listener) Path() string { return l.path }

// Env is the environment entry that points sd_notify at this listener.
func (l *Listener) Env() string { return "NOTIFY_SOCKET=" + l.path }

// Messages returns every line received so far, in order.
func (l *Listener) Messages() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.lines...)
}

// Seen reports whether a line with the prefix has been received.
func (l *Listener) Seen(prefix string) bool {
	_, ok, _ := l.find(prefix)
	return ok
}

// Count is the number of lines received so far with the prefix.
func (l *Listener) Count(prefix string) int {
	n, _ := l.count(prefix)
	return n
}

// WaitCount waits until at least n lines with the prefix have been received.
func (l *Listener) WaitCount(ctx context.Context, prefix string, n int) error {
	for {
		got, changed := l.count(prefix)
		if got >= n {
			return nil
		}
		select {
		case <-changed:
		case <-l.done:
			return fmt.Errorf("notifytest: listener closed after %d of %d %q lines", got, n, prefix)
		case <-ctx.Done():
			return fmt.Errorf("notifytest: %d of %d %q lines: %w", got, n, prefix, ctx.Err())
		}
	}
}

func (l *Listener) count(prefix string) (int, <-chan struct{}) {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, line := range l.lines {
		if strings.HasPrefix(line, prefix) {
			n++
		}
	}
	return n, l.changed
}

// Wait returns the first line with the prefix pred, waiting for it until ctx
// is done.
func (l *Listener) Wait(ctx context.Context, pred string) (string, error) {
	for {
		line, ok, changed := l.find(pred)
		if ok {
			return line, nil
		}
		select {
		case <-changed:
		case <-l.done:
			if line, ok, _ := l.find(pred); ok {
				return line, nil
			}
			return "", errors.New("notifytest: listener closed")
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
}

func (l *Listener) find(prefix string) (string, bool, <-chan struct{}) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, line := range l.lines {
		if strings.HasPrefix(line, prefix) {
			return line, true, l.changed
		}
	}
	return "", false, l.changed
}
