package widget

import "sort"

// Binary values in a state travel as binary buffers after the JSON parts of a comm
// message, each located by its path in the state (protocol 2): a list of keys and
// list indices. A buffer in a map is left out of the JSON state; in a list it is
// replaced by null.

// splitBuffers returns state without its binary values ([]byte, at any depth in
// maps and lists), their paths and the values, in the same order. state is not
// changed: the maps and lists on the way to a buffer are copied.
func splitBuffers(state map[string]any) (clean map[string]any, paths []any, buffers [][]byte) {
	paths = []any{}
	v, _ := split(state, nil, &paths, &buffers)
	return v.(map[string]any), paths, buffers
}

// split returns v without its binary values, and whether it changed (then the
// maps and lists on the way to a buffer are copies).
func split(v any, path []any, paths *[]any, buffers *[][]byte) (any, bool) {
	switch v := v.(type) {
	case map[string]any:
		var out map[string]any
		for _, k := range sortedKeys(v) {
			x := v[k]
			b, isBuffer := x.([]byte)
			y, changed := split(x, appendPath(path, k), paths, buffers)
			if !isBuffer && !changed {
				continue
			}
			if out == nil {
				out = copyMap(v)
			}
			if isBuffer {
				delete(out, k)
				*paths = append(*paths, appendPath(path, k))
				*buffers = append(*buffers, b)
			} else {
				out[k] = y
			}
		}
		if out != nil {
			return out, true
		}
	case []any:
		var out []any
		for i, x := range v {
			b, isBuffer := x.([]byte)
			y, changed := split(x, appendPath(path, i), paths, buffers)
			if !isBuffer && !changed {
				continue
			}
			if out == nil {
				out = append([]any(nil), v...)
			}
			if isBuffer {
				out[i] = nil
				*paths = append(*paths, appendPath(path, i))
				*buffers = append(*buffers, b)
			} else {
				out[i] = y
			}
		}
		if out != nil {
			return out, true
		}
	}
	return v, false
}

// sortedKeys returns the keys of m in order, so that buffers come in the same
// order for the same state.
func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func appendPath(path []any, step any) []any {
	p := make([]any, len(path), len(path)+1)
	copy(p, path)
	return append(p, step)
}

func copyMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// putBuffers puts buffers into state at their paths (a JSON list of lists of keys
// and indices, as decoded from a comm message); paths that do not lead anywhere
// in state are skipped.
func putBuffers(state map[string]any, paths any, buffers [][]byte) {
	list, _ := paths.([]any)
	for i, p := range list {
		if i >= len(buffers) {
			return
		}
		steps, _ := p.([]any)
		if len(steps) == 0 {
			continue
		}
		var cur any = state
		for j, step := range steps {
			last := j == len(steps)-1
			switch c := cur.(type) {
			case map[string]any:
				k, ok := step.(string)
				if !ok {
					cur = nil
					continue
				}
				if last {
					c[k] = buffers[i]
				}
				cur = c[k]
			case []any:
				f, ok := step.(float64)
				n := int(f)
				if !ok || float64(n) != f || n < 0 || n >= len(c) {
					cur = nil
					continue
				}
				if last {
					c[n] = buffers[i]
				}
				cur = c[n]
			default:
				cur = nil
			}
		}
	}
}
