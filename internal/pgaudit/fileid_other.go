//go:build !unix

package pgaudit

import "os"

// fileID is zero where there are no inodes: a file is then known by its
// name alone.
func fileID(os.FileInfo) (dev, ino uint64) { return 0, 0 }
