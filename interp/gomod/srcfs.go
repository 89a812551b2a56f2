package gomod

import (
	"bytes"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// SourceFS is the source tree that yaegi reads packages from, to be given as
// yaegi.Options.SourcecodeFilesystem with an empty GoPath: src/IMPORTPATH/FILE
// holds the files that the go command selected for the package (Resolve), read
// from the module cache or a local directory when yaegi opens them. Their
// `// +build` lines are blanked (the go command already applied the
// constraints, and yaegi reads only that old form), and Transform, if set,
// rewrites them. SourceFS is safe for concurrent use.
type SourceFS struct {
	// Transform rewrites the text of file name of package p before yaegi
	// reads it; nil keeps it as it is.
	Transform func(p *Package, name string, src []byte) ([]byte, error)

	mu    sync.RWMutex
	pkgs  map[string]*Package // import path → package
	dirs  map[string]bool     // every directory of the tree, "src/a/b"
	cache map[string][]byte   // transformed files, by name in the tree
}

// Add makes the packages of g readable, replacing earlier versions of them.
func (f *SourceFS) Add(g *Graph) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.pkgs == nil {
		f.pkgs, f.dirs, f.cache = map[string]*Package{}, map[string]bool{".": true}, map[string][]byte{}
	}
	for _, p := range g.Packages {
		f.pkgs[p.ImportPath] = p
		for d := "src/" + p.ImportPath; d != "."; d = path.Dir(d) {
			f.dirs[d] = true
		}
		for name := range f.cache {
			if path.Dir(name) == "src/"+p.ImportPath {
				delete(f.cache, name)
			}
		}
	}
}

// file returns the package and file name that name stands for, if any.
func (f *SourceFS) file(name string) (*Package, string, bool) {
	dir, base := path.Split(name)
	p := f.pkgs[strings.TrimPrefix(strings.TrimSuffix(dir, "/"), "src/")]
	if p == nil || !strings.HasPrefix(dir, "src/") {
		return nil, "", false
	}
	for _, g := range p.GoFiles {
		if g == base {
			return p, base, true
		}
	}
	return nil, "", false
}

// ReadFile implements fs.ReadFileFS.
func (f *SourceFS) ReadFile(name string) ([]byte, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "read", Path: name, Err: fs.ErrInvalid}
	}
	f.mu.RLock()
	b, ok := f.cache[name]
	p, base, isFile := f.file(name)
	f.mu.RUnlock()
	if ok {
		return b, nil
	}
	if !isFile {
		return nil, &fs.PathError{Op: "read", Path: name, Err: fs.ErrNotExist}
	}
	b, err := os.ReadFile(filepath.Join(p.Dir, base))
	if err != nil {
		return nil, &fs.PathError{Op: "read", Path: name, Err: err}
	}
	b = blankBuildLines(b)
	if f.Transform != nil {
		if b, err = f.Transform(p, base, b); err != nil {
			return nil, &fs.PathError{Op: "read", Path: name, Err: err}
		}
	}
	f.mu.Lock()
	if f.pkgs[p.ImportPath] == p {
		f.cache[name] = b
	}
	f.mu.Unlock()
	return b, nil
}

// blankBuildLines turns `// +build` lines into plain comments of the same length.
func blankBuildLines(b []byte) []byte {
	if !bytes.Contains(b, []byte("// +build")) {
		return b
	}
	lines := bytes.SplitAfter(b, []byte("\n"))
	for i, l := range lines {
		if bytes.HasPrefix(l, []byte("// +build")) {
			lines[i] = append([]byte("//  build"), l[len("// +build"):]...)
		}
	}
	return bytes.Join(lines, nil)
}

// ReadDir implements fs.ReadDirFS: a package's directory lists its files (the
// directories of packages below it are not listed: yaegi looks for them by
// path).
func (f *SourceFS) ReadDir(name string) ([]fs.DirEntry, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	if !f.dirs[name] {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: fs.ErrNotExist}
	}
	var out []fs.DirEntry
	if p := f.pkgs[strings.TrimPrefix(name, "src/")]; p != nil && strings.HasPrefix(name, "src/") {
		for _, g := range p.GoFiles {
			out = append(out, fs.FileInfoToDirEntry(info{name: g}))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name() < out[j].Name() })
	return out, nil
}

// Stat implements fs.StatFS.
func (f *SourceFS) Stat(name string) (fs.FileInfo, error) {
	f.mu.RLock()
	isDir := f.dirs[name]
	_, base, isFile := f.file(name)
	f.mu.RUnlock()
	switch {
	case isDir:
		return info{name: path.Base(name), dir: true}, nil
	case isFile:
		b, err := f.ReadFile(name)
		if err != nil {
			return nil, err
		}
		return info{name: base, size: int64(len(b))}, nil
	}
	return nil, &fs.PathError{Op: "stat", Path: name, Err: fs.ErrNotExist}
}

// Open implements fs.FS.
func (f *SourceFS) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	f.mu.RLock()
	isDir := f.dirs[name]
	f.mu.RUnlock()
	if isDir {
		ents, err := f.ReadDir(name)
		if err != nil {
			return nil, err
		}
		return &dirFile{info: info{name: path.Base(name), dir: true}, ents: ents}, nil
	}
	b, err := f.ReadFile(name)
	if err != nil {
		return nil, err
	}
	return &openFile{info: info{name: path.Base(name), size: int64(len(b))}, r: bytes.NewReader(b)}, nil
}

type info struct {
	name string
	size int64
	dir  bool
}

func (i info) Name() string { return i.name }
func (i info) Size() int64  { return i.size }
func (i info) Mode() fs.FileMode {
	if i.dir {
		return fs.ModeDir | 0o555
	}
	return 0o444
}
func (i info) ModTime() time.Time { return time.Time{} }
func (i info) IsDir() bool        { return i.dir }
func (i info) Sys() any           { return nil }

type openFile struct {
	info info
	r    *bytes.Reader
}

func (o *openFile) Stat() (fs.FileInfo, error) { return o.info, nil }
func (o *openFile) Read(b []byte) (int, error) { return o.r.Read(b) }
func (o *openFile) Close() error               { return nil }

type dirFile struct {
	info info
	ents []fs.DirEntry
}

func (d *dirFile) Stat() (fs.FileInfo, error) { return d.info, nil }
func (d *dirFile) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.info.name, Err: fs.ErrInvalid}
}
func (d *dirFile) Close() error { return nil }

// ReadDir implements fs.ReadDirFile.
func (d *dirFile) ReadDir(n int) ([]fs.DirEntry, error) {
	if n <= 0 {
		out := d.ents
		d.ents = nil
		return out, nil
	}
	if len(d.ents) == 0 {
		return nil, io.EOF
	}
	n = min(n, len(d.ents))
	out := d.ents[:n]
	d.ents = d.ents[n:]
	return out, nil
}
