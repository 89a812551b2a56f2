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

// maxLine bounds one line of a text data file (a 784-pixel image row is about 4 kB).
const maxLine = 64 << 20

func newScanner(r io.Reader) *bufio.Scanner {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxLine)
	return sc
}

// ReadCSV reads comma-separated numbers (gzip-compressed or plain), one point per line:
// d features, then the label as the last field. Blank lines are skipped and spaces
// around fields are ignored; every line must have the same number of fields.
//
// With header, the first line follows scikit-learn's convention "n,d[,class names…]"
// (breast_cancer.csv begins "569,30,malignant,benign"): the file must then hold exactly
// n points of d features, the class names become Set.Classes, and when names are given
// every label must be a class index 0…len(names)−1.
func ReadCSV(r io.Reader, header bool) (*Set, error) {
	r, err := uncompressed(r)
	if err != nil {
		return nil, err
	}
	sc := newScanner(r)
	line := 0
	wantN, wantFields := -1, -1
	var classes []string
	var data, labels []float64
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" {
			continue
		}
		fields := strings.Split(text, ",")
		if header && wantN < 0 {
			if len(fields) < 2 {
				return nil, fmt.Errorf("dataset: line %d: header has %d fields, want n,d[,class names…]", line, len(fields))
			}
			n, err1 := strconv.Atoi(strings.TrimSpace(fields[0]))
			d, err2 := strconv.Atoi(strings.TrimSpace(fields[1]))
			if err1 != nil || err2 != nil || n <= 0 || d <= 0 {
				return nil, fmt.Errorf("dataset: line %d: header %q does not start with two positive counts n,d", line, text)
			}
			wantN, wantFields = n, d+1
			for _, name := range fields[2:] {
				classes = append(classes, strings.TrimSpace(name))
			}
			continue
		}
		if wantFields < 0 {
			wantFields = len(fields)
			if wantFields < 2 {
				return nil, fmt.Errorf("dataset: line %d has %d field, want features and a label", line, wantFields)
			}
		}
		if len(fields) != wantFields {
			return nil, fmt.Errorf("dataset: line %d has %d fields, want %d", line, len(fields), wantFields)
		}
		for i, f := range fields {
			v, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
			if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("dataset: line %d field %d: %q is not a finite number", line, i+1, f)
			}
			if i == len(fields)-1 {
				if len(classes) > 0 && (v != math.Trunc(v) || v < 0 || int(v) >= len(classes)) {
					return nil, fmt.Errorf("dataset: line %d: label %v is not a class index 0…%d", line, v, len(classes)-1)
				}
				labels = append(labels, v)
			} else {
				data = append(data, v)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("dataset: line %d: %v", line+1, err)
	}
	if len(labels) == 0 {
		return nil, errors.New("dataset: no data rows")
	}
	if header && len(labels) != wantN {
		return nil, fmt.Errorf("dataset: header announces %d rows, file has %d", wantN, len(labels))
	}
	return &Set{X: mat.NewDense(len(labels), wantFields-1, data), Y: labels, Classes: classes}, nil
}

// LoadCSV reads the CSV file at path (see ReadCSV).
func LoadCSV(path string, header bool) (*Set, error) {
	return load(path, func(r io.Reader) (*Set, error) { return ReadCSV(r, header) })
}

// WriteCSV writes s in the format ReadCSV reads, with the header line
// "n,d[,class names…]" when header is set. Numbers are written in the shortest form
// that reads back to the same float64.
func WriteCSV(w io.Writer, s *Set, header bool) error {
	if err := s.check(); err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	n, d := s.X.Dims()
	if header {
		fmt.Fprintf(bw, "%d,%d", n, d)
		for _, c := range s.Classes {
			if strings.ContainsAny(c, ",\n") {
				return fmt.Errorf("dataset: class name %q contains a comma or newline", c)
			}
			bw.WriteString("," + c)
		}
		bw.WriteByte('\n')
	}
	var buf []byte
	for i := 0; i < n; i++ {
		buf = buf[:0]
		for _, v := range s.X.RawRowView(i) {
			buf = strconv.AppendFloat(buf, v, 'g', -1, 64)
			buf = append(buf, ',')
		}
		buf = strconv.AppendFloat(buf, s.Y[i], 'g', -1, 64)
		buf = append(buf, '\n')
		bw.Write(buf)
	}
	return bw.Flush()
}
