package dataset

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"gonum.org/v1/gonum/mat"
)

// ReadLIBSVM reads the sparse LIBSVM format (gzip-compressed or plain): one point per
// line, "label index:value index:value …" with 1-based, strictly increasing indices;
// absent features are zero, text after '#' is a comment and blank lines are skipped.
// features fixes d (an index above it is an error); zero means the largest index seen.
func ReadLIBSVM(r io.Reader, features int) (*Set, error) {
	if features < 0 {
		return nil, fmt.Errorf("dataset: feature count %d is negative", features)
	}
	r, err := uncompressed(r)
	if err != nil {
		return nil, err
	}
	type entry struct {
		row, col int
		v        float64
	}
	var entries []entry
	var labels []float64
	maxIndex := 0
	sc := newScanner(r)
	line := 0
	for sc.Scan() {
		line++
		text := sc.Text()
		if i := strings.IndexByte(text, '#'); i >= 0 {
			text = text[:i]
		}
		fields := strings.Fields(text)
		if len(fields) == 0 {
			continue
		}
		y, err := strconv.ParseFloat(fields[0], 64)
		if err != nil || math.IsNaN(y) || math.IsInf(y, 0) {
			return nil, fmt.Errorf("dataset: line %d: label %q is not a finite number", line, fields[0])
		}
		row := len(labels)
		labels = append(labels, y)
		prev := 0
		for _, f := range fields[1:] {
			is, vs, ok := strings.Cut(f, ":")
			if !ok {
				return nil, fmt.Errorf("dataset: line %d: %q is not index:value", line, f)
			}
			idx, err := strconv.Atoi(is)
			if err != nil || idx < 1 {
				return nil, fmt.Errorf("dataset: line %d: index %q is not a positive integer", line, is)
			}
			if idx <= prev {
				return nil, fmt.Errorf("dataset: line %d: index %d follows %d (indices must increase)", line, idx, prev)
			}
			if features > 0 && idx > features {
				return nil, fmt.Errorf("dataset: line %d: index %d exceeds the %d features", line, idx, features)
			}
			v, err := strconv.ParseFloat(vs, 64)
			if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("dataset: line %d: value %q is not a finite number", line, vs)
			}
			prev = idx
			maxIndex = max(maxIndex, idx)
			entries = append(entries, entry{row, idx - 1, v})
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("dataset: line %d: %v", line+1, err)
	}
	if len(labels) == 0 {
		return nil, errors.New("dataset: no data rows")
	}
	d := features
	if d == 0 {
		d = maxIndex
	}
	if d == 0 {
		return nil, errors.New("dataset: no features (every line holds only a label)")
	}
	X := mat.NewDense(len(labels), d, nil)
	for _, e := range entries {
		X.Set(e.row, e.col, e.v)
	}
	return &Set{X: X, Y: labels}, nil
}

// LoadLIBSVM reads the LIBSVM file at path (see ReadLIBSVM).
func LoadLIBSVM(path string, features int) (*Set, error) {
	return load(path, func(r io.Reader) (*Set, error) { return ReadLIBSVM(r, features) })
}

// WriteLIBSVM writes s in the LIBSVM format, omitting zero features.
func WriteLIBSVM(w io.Writer, s *Set) error {
	if err := s.check(); err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	n, _ := s.X.Dims()
	var buf []byte
	for i := 0; i < n; i++ {
		buf = strconv.AppendFloat(buf[:0], s.Y[i], 'g', -1, 64)
		for j, v := range s.X.RawRowView(i) {
			if v != 0 {
				buf = append(buf, ' ')
				buf = strconv.AppendInt(buf, int64(j+1), 10)
				buf = append(buf, ':')
				buf = strconv.AppendFloat(buf, v, 'g', -1, 64)
			}
		}
		buf = append(buf, '\n')
		bw.Write(buf)
	}
	return bw.Flush()
}
