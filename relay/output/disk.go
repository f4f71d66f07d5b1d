package output

import (
	"path/filepath"
	"syscall"
	"time"

	"github.com/floodgate/floodgate"
)

func (f *Dest) diskLoop() {
	t := time.NewTicker(diskInterval)
	defer t.Stop()
	for {
		select {
		case <-f.stop:
			return
		case <-t.C:
			f.checkDisk()
			if f.rot.overTotal() {
				f.rot.prune() // current files grew past max_total between rotations
			}
		}
	}
}

// checkDisk reads the free space of every filesystem the output writes to
// (its base directory and the directories of its open files) and sets the
// level to the worst of them.
func (f *Dest) checkDisk() {
	if f.w != nil {
		return // a writer has no filesystem of its own to guard
	}
	dirs := []string{f.tmpl.base}
	f.mu.Lock()
	for _, fl := range f.files {
		if fl.fd != nil {
			dirs = append(dirs, filepath.Dir(fl.path))
		}
	}
	f.mu.Unlock()

	seen := map[[2]int32]bool{}
	level, measured := floodgate.DiskOK, false
	var st syscall.Statfs_t
	for i, d := range dirs {
		if err := syscall.Statfs(d, &st); err != nil {
			continue // removed under us: the next write recreates it
		}
		if i == 0 {
			inodes := int64(-1)
			if st.Files > 0 {
				inodes = int64(st.Ffree)
			}
			f.mu.Lock()
			f.inodes = inodes
			f.mu.Unlock()
		}
		if seen[st.Fsid.X__val] {
			continue
		}
		seen[st.Fsid.X__val] = true
		measured = true
		level = max(level, f.levelOf(&st))
	}
	if measured {
		f.setLevel(level)
	}
}

// levelOf compares a filesystem's free space with the watermarks. Free is
// what an unprivileged user may still write (f_bavail), as with df. A
// filesystem out of inodes is full too: no new file can be created on it.
func (f *Dest) levelOf(st *syscall.Statfs_t) floodgate.DiskLevel {
	bsize := uint64(st.Bsize)
	total, free := st.Blocks*bsize, st.Bavail*bsize
	switch {
	case free < f.opts.HardMinFree.Of(total), st.Files > 0 && st.Ffree == 0:
		return floodgate.DiskFull
	case free < f.opts.MinFree.Of(total):
		return floodgate.DiskLow
	}
	return floodgate.DiskOK
}

// setLevel publishes level and logs a change.
func (f *Dest) setLevel(level floodgate.DiskLevel) {
	old := floodgate.DiskLevel(f.level.Swap(int32(level)))
	f.stats.Disk.Store(int32(level))
	if old == level {
		return
	}
	if level == floodgate.DiskOK {
		f.log.Info("disk space recovered", logLevel, level.String(), logWas, old.String())
	} else {
		f.log.Warn("disk space low", logLevel, level.String(), logWas, old.String(),
			logMinFree, f.opts.MinFree.String(), logHardFree, f.opts.HardMinFree.String())
	}
}
