//go:build unix

package pgaudit

import (
	"os"
	"syscall"
)

// fileID is a file's identity across renames: its device and inode.
func fileID(fi os.FileInfo) (dev, ino uint64) {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Dev), uint64(st.Ino)
	}
	return 0, 0
}
