package index

import "time"

// SetStoreLockWait shortens how long Start waits for index.db's lock.
func SetStoreLockWait(ix *Index, d time.Duration) { ix.lockWait = d }
