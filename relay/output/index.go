package output

import (
	"container/heap"
	"io/fs"
	"path/filepath"
	"sync"
)

// sizeIndex is what max_total needs to know of the output's directory:
// the size of every current file and of every rotated file, and the
// rotated files in order of age. It is built by one walk when the output
// opens, then kept up to date by the writers (a current file grew, was
// opened or rotated) and the rotator (a rotated file renamed, gzipped or
// removed), so that a rotation costs no walk of the tree however many
// files lie under it.
type sizeIndex struct {
	mu      sync.Mutex
	current map[string]int64
	rotated map[string]*rotatedFile
	byAge   ageHeap
	total   int64 // bytes of every file indexed
	seq     int64
}

// rotatedFile is one rotated file in the index.
type rotatedFile struct {
	name string
	size int64
	mod  int64 // modification time, UnixNano
	seq  int64 // orders files of the same mod
	at   int   // position in the heap
}

func newSizeIndex() *sizeIndex {
	return &sizeIndex{current: map[string]int64{}, rotated: map[string]*rotatedFile{}}
}

// build walks base once and indexes every regular file: those isRotated
// matches (by their path relative to base) as rotated, the rest as
// current.
func (x *sizeIndex) build(base string, isRotated func(rel string) bool) {
	filepath.WalkDir(base, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return nil // a directory removed meanwhile, say: skip it
		}
		info, err := d.Info()
		if err != nil {
			return nil
		}
		rel, err := filepath.Rel(base, p)
		if err == nil && isRotated(filepath.ToSlash(rel)) {
			x.addRotated(p, info.Size(), info.ModTime().UnixNano())
		} else {
			x.setCurrent(p, info.Size())
		}
		return nil
	})
}

// setCurrent records the size of the current file path.
func (x *sizeIndex) setCurrent(path string, size int64) {
	x.mu.Lock()
	x.total += size - x.current[path]
	x.current[path] = size
	x.mu.Unlock()
}

// rotate records that the current file path, of size bytes, became the
// rotated file aside at time mod.
func (x *sizeIndex) rotate(path, aside string, size, mod int64) {
	x.mu.Lock()
	x.total -= x.current[path]
	delete(x.current, path)
	x.addRotatedLocked(aside, size, mod)
	x.mu.Unlock()
}

func (x *sizeIndex) addRotated(name string, size, mod int64) {
	x.mu.Lock()
	x.addRotatedLocked(name, size, mod)
	x.mu.Unlock()
}

func (x *sizeIndex) addRotatedLocked(name string, size, mod int64) {
	if old := x.rotated[name]; old != nil {
		x.removeLocked(old)
	}
	x.seq++
	e := &rotatedFile{name: name, size: size, mod: mod, seq: x.seq}
	x.rotated[name] = e
	heap.Push(&x.byAge, e)
	x.total += size
}

// rename records a rotated file renamed; a name not indexed is ignored.
func (x *sizeIndex) rename(from, to string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	e := x.rotated[from]
	if e == nil {
		return
	}
	if old := x.rotated[to]; old != nil {
		x.removeLocked(old)
	}
	delete(x.rotated, from)
	e.name = to
	x.rotated[to] = e
}

// replace records a rotated file replaced by another of size bytes (its
// gzipped copy), keeping its age.
func (x *sizeIndex) replace(from, to string, size int64) {
	x.mu.Lock()
	defer x.mu.Unlock()
	e := x.rotated[from]
	if e == nil {
		return
	}
	delete(x.rotated, from)
	x.total += size - e.size
	e.name, e.size = to, size
	x.rotated[to] = e
}

// remove forgets a rotated file.
func (x *sizeIndex) remove(name string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if e := x.rotated[name]; e != nil {
		x.removeLocked(e)
	}
}

func (x *sizeIndex) removeLocked(e *rotatedFile) {
	heap.Remove(&x.byAge, e.at)
	delete(x.rotated, e.name)
	x.total -= e.size
}

// over returns the oldest rotated file while the index holds more than
// limit bytes, or "" when it holds no more, or nothing is left to remove.
func (x *sizeIndex) over(limit int64) string {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.total <= limit || len(x.byAge) == 0 {
		return ""
	}
	return x.byAge[0].name
}

// overLimit reports whether the index holds more than limit bytes and a
// rotated file that could be removed.
func (x *sizeIndex) overLimit(limit int64) bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.total > limit && len(x.byAge) > 0
}

// Total returns the bytes indexed.
func (x *sizeIndex) Total() int64 {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.total
}

// ageHeap orders rotated files oldest first.
type ageHeap []*rotatedFile

func (h ageHeap) Len() int { return len(h) }
func (h ageHeap) Less(i, j int) bool {
	if h[i].mod != h[j].mod {
		return h[i].mod < h[j].mod
	}
	return h[i].seq < h[j].seq
}
func (h ageHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].at, h[j].at = i, j
}
func (h *ageHeap) Push(v any) {
	e := v.(*rotatedFile)
	e.at = len(*h)
	*h = append(*h, e)
}
func (h *ageHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return e
}
