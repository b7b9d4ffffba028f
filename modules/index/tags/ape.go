package tags

// readAPE reads an APEv2 tag whose footer is at off. (Not written yet.)
func (f *file) readAPE(off int64) {}
