package dataset

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"
)

func gz(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestIDXRoundTrip(t *testing.T) {
	x := &IDX{Dims: []int{3, 2, 2}, Data: []float64{0, 1, 2, 3, 255, 254, 128, 7, 9, 10, 11, 12}}
	var buf bytes.Buffer
	if err := WriteIDX(&buf, x); err != nil {
		t.Fatal(err)
	}
	if got := buf.Len(); got != 4+3*4+12 {
		t.Errorf("IDX file has %d bytes, want %d", got, 4+3*4+12)
	}
	for _, compress := range []bool{false, true} {
		b := buf.Bytes()
		if compress {
			b = gz(t, b)
		}
		y, err := ReadIDX(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if !equalInts(y.Dims, x.Dims) || !equalFloats(y.Data, x.Data) {
			t.Errorf("gzip=%v: read %v %v, wrote %v %v", compress, y.Dims, y.Data, x.Dims, x.Data)
		}
	}
	if err := WriteIDX(&buf, &IDX{Dims: []int{2}, Data: []float64{1, 256}}); err == nil {
		t.Error("WriteIDX accepted 256 as a byte")
	}
	if err := WriteIDX(&buf, &IDX{Dims: []int{3}, Data: []float64{1, 2}}); err == nil {
		t.Error("WriteIDX accepted 2 entries for dimension 3")
	}
}

// TestIDXTypes builds one file per element type by hand (big-endian, as the format
// specifies) and checks the decoded values.
func TestIDXTypes(t *testing.T) {
	want := []float64{-2, 0, 3}
	for _, tc := range []struct {
		typ  byte
		data any
	}{
		{0x09, []int8{-2, 0, 3}},
		{0x0B, []int16{-2, 0, 3}},
		{0x0C, []int32{-2, 0, 3}},
		{0x0D, []float32{-2, 0, 3}},
		{0x0E, []float64{-2, 0, 3}},
	} {
		var buf bytes.Buffer
		buf.Write([]byte{0, 0, tc.typ, 1})
		binary.Write(&buf, binary.BigEndian, uint32(3))
		binary.Write(&buf, binary.BigEndian, tc.data)
		x, err := ReadIDX(&buf)
		if err != nil {
			t.Fatalf("type 0x%02x: %v", tc.typ, err)
		}
		if !equalFloats(x.Data, want) {
			t.Errorf("type 0x%02x: got %v, want %v", tc.typ, x.Data, want)
		}
	}
}

func TestIDXMalformed(t *testing.T) {
	for _, tc := range []struct {
		name string
		b    []byte
		want string
	}{
		{"empty", nil, "IDX header"},
		{"magic", []byte{1, 0, 8, 1, 0, 0, 0, 1, 5}, "not an IDX file"},
		{"type", []byte{0, 0, 7, 1, 0, 0, 0, 1, 5}, "unknown IDX element type 0x07"},
		{"rank0", []byte{0, 0, 8, 0}, "no dimensions"},
		{"dims", []byte{0, 0, 8, 2, 0, 0, 0, 1}, "IDX dimension 1"},
		{"short", []byte{0, 0, 8, 1, 0, 0, 0, 3, 1, 2}, "got 2 of 3 entries"},
		{"huge", []byte{0, 0, 8, 2, 255, 255, 255, 255, 255, 255, 255, 255}, "too large"},
	} {
		_, err := ReadIDX(bytes.NewReader(tc.b))
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "dataset: ") {
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.want)
		}
	}
}

func TestMNIST(t *testing.T) {
	s, err := MNIST()
	if err != nil {
		t.Fatal(err)
	}
	if s.Len() != 10000 || s.Features() != 784 {
		t.Fatalf("MNIST is %d×%d, want 10000×784", s.Len(), s.Features())
	}
	// Label counts from notebooks/data/README.md.
	want := []int{1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978}
	counts := s.Counts()
	for c, w := range want {
		if counts[float64(c)] != w {
			t.Errorf("digit %d: %d images, want %d", c, counts[float64(c)], w)
		}
	}
	lo, hi := mat.Min(s.X), mat.Max(s.X)
	if lo != 0 || hi != 1 {
		t.Errorf("pixels range over [%v, %v], want [0, 1]", lo, hi)
	}
	for k := 1; k < s.Len(); k++ {
		if s.Y[k] < s.Y[k-1] {
			t.Fatalf("labels not sorted at %d (the README says the sample is sorted)", k)
		}
	}
}

func TestMNIST2v8(t *testing.T) {
	s, err := MNIST2v8()
	if err != nil {
		t.Fatal(err)
	}
	if s.Len() != 1935 || s.Features() != 100 {
		t.Fatalf("2 against 8 is %d×%d, want 1935×100", s.Len(), s.Features())
	}
	if c := s.Counts(); c[1] != 991 || c[-1] != 944 || len(c) != 2 {
		t.Errorf("label counts %v, want +1:991 −1:944", c)
	}
	full, err := MNISTPair(2, 8, 28)
	if err != nil {
		t.Fatal(err)
	}
	// Area averaging keeps each image's mean intensity.
	for k := 0; k < s.Len(); k += 97 {
		m10 := mean(s.X.RawRowView(k))
		m28 := mean(full.X.RawRowView(k))
		if math.Abs(m10-m28) > 1e-12 {
			t.Errorf("image %d: mean %v after downsampling, %v before", k, m10, m28)
		}
	}
	if lo, hi := mat.Min(s.X), mat.Max(s.X); lo < 0 || hi > 1 {
		t.Errorf("downsampled pixels range over [%v, %v]", lo, hi)
	}
}

// TestDownsampleBruteForce compares area averaging with an independent computation:
// replicate every pixel into a 10×10 block (280×280), then average 28×28 blocks, which
// is exact because 280/10 = 28 and each output pixel then covers whole fine pixels.
func TestDownsampleBruteForce(t *testing.T) {
	const from, to, rep = 28, 10, 10
	r := newRand(3)
	X := mat.NewDense(2, from*from, nil)
	for i := 0; i < 2; i++ {
		for j := 0; j < from*from; j++ {
			X.Set(i, j, r.Float64())
		}
	}
	got, err := Downsample(X, from, to)
	if err != nil {
		t.Fatal(err)
	}
	block := from * rep / to
	for k := 0; k < 2; k++ {
		img := X.RawRowView(k)
		for i := 0; i < to; i++ {
			for j := 0; j < to; j++ {
				s := 0.0
				for a := i * block; a < (i+1)*block; a++ {
					for b := j * block; b < (j+1)*block; b++ {
						s += img[(a/rep)*from+b/rep]
					}
				}
				want := s / float64(block*block)
				if g := got.At(k, i*to+j); math.Abs(g-want) > 1e-12 {
					t.Errorf("image %d pixel (%d,%d): %v, want %v", k, i, j, g, want)
				}
			}
		}
	}
	if _, err := Downsample(X, 28, 30); err == nil {
		t.Error("Downsample accepted upsampling")
	}
	if _, err := Downsample(X, 27, 10); err == nil || !strings.Contains(err.Error(), "784 columns") {
		t.Errorf("wrong image size: error %v", err)
	}
}

func TestCSVFiles(t *testing.T) {
	bc, err := BreastCancer()
	if err != nil {
		t.Fatal(err)
	}
	// 357 benign, 212 malignant: the counts scikit-learn documents for this set.
	if c := bc.Counts(); bc.Len() != 569 || bc.Features() != 30 || c[1] != 357 || c[-1] != 212 {
		t.Errorf("breast cancer: %d×%d, counts %v", bc.Len(), bc.Features(), c)
	}
	if got := bc.X.At(0, 0); got != 17.99 {
		t.Errorf("first feature %v, want 17.99 (the file's first value)", got)
	}
	iris, err := Iris()
	if err != nil {
		t.Fatal(err)
	}
	if c := iris.Counts(); iris.Len() != 150 || iris.Features() != 4 || c[0] != 50 || c[1] != 50 || c[2] != 50 {
		t.Errorf("iris: %d×%d, counts %v", iris.Len(), iris.Features(), c)
	}
	if strings.Join(iris.Classes, " ") != "setosa versicolor virginica" {
		t.Errorf("iris classes %q", iris.Classes)
	}
	dg, err := Digits()
	if err != nil {
		t.Fatal(err)
	}
	if dg.Len() != 1797 || dg.Features() != 64 || mat.Max(dg.X) != 16 || len(dg.Counts()) != 10 {
		t.Errorf("digits: %d×%d, max %v, %d classes", dg.Len(), dg.Features(), mat.Max(dg.X), len(dg.Counts()))
	}
}

func TestCSVRoundTrip(t *testing.T) {
	s := &Set{X: mat.NewDense(3, 2, []float64{0.1, -2e-300, 1.0 / 3, 5, math.Pi, 0}), Y: []float64{0, 1, 1}, Classes: []string{"a", "b"}}
	for _, header := range []bool{false, true} {
		for _, compress := range []bool{false, true} {
			var buf bytes.Buffer
			if err := WriteCSV(&buf, s, header); err != nil {
				t.Fatal(err)
			}
			b := buf.Bytes()
			if compress {
				b = gz(t, b)
			}
			got, err := ReadCSV(bytes.NewReader(b), header)
			if err != nil {
				t.Fatalf("header=%v gzip=%v: %v", header, compress, err)
			}
			if !mat.Equal(got.X, s.X) || !equalFloats(got.Y, s.Y) {
				t.Errorf("header=%v gzip=%v: round trip changed the data", header, compress)
			}
			if header && strings.Join(got.Classes, ",") != "a,b" {
				t.Errorf("classes %q after round trip", got.Classes)
			}
		}
	}
}

func TestCSVMalformed(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		header   bool
		want     string
	}{
		{"fields", "1,2,3\n4,5,6\n7,8\n", false, "dataset: line 3 has 2 fields, want 3"},
		{"header fields", "2,3,a,b\n1,2,3,0\n1,2,0\n", true, "dataset: line 3 has 3 fields, want 4"},
		{"header rows", "3,1\n1,0\n2,1\n", true, "dataset: header announces 3 rows, file has 2"},
		{"header counts", "x,2\n", true, "dataset: line 1: header \"x,2\" does not start with two positive counts"},
		{"number", "1,2,0\n1,zz,1\n", false, "dataset: line 2 field 2: \"zz\" is not a finite number"},
		{"nan", "1,NaN,0\n", false, "not a finite number"},
		{"class", "1,1,a,b\n5,2\n", true, "dataset: line 2: label 2 is not a class index 0…1"},
		{"empty", "\n\n", false, "dataset: no data rows"},
		{"one field", "1\n2\n", false, "want features and a label"},
	} {
		_, err := ReadCSV(strings.NewReader(tc.in), tc.header)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		}
	}
	// Blank lines are skipped but still counted in line numbers.
	_, err := ReadCSV(strings.NewReader("1,2,3\n\n4,5\n"), false)
	if err == nil || !strings.Contains(err.Error(), "line 3 has 2 fields") {
		t.Errorf("blank line: error %v", err)
	}
	_, err = LoadCSV(filepath.Join(t.TempDir(), "missing.csv"), false)
	if err == nil || !strings.HasPrefix(err.Error(), "dataset: ") {
		t.Errorf("missing file: error %v", err)
	}
}

func TestLIBSVM(t *testing.T) {
	in := "# a comment line\n+1 1:0.5 3:-2 # trailing\n\n-1 2:4\n0\n"
	s, err := ReadLIBSVM(strings.NewReader(in), 0)
	if err != nil {
		t.Fatal(err)
	}
	want := mat.NewDense(3, 3, []float64{0.5, 0, -2, 0, 4, 0, 0, 0, 0})
	if !mat.Equal(s.X, want) || !equalFloats(s.Y, []float64{1, -1, 0}) {
		t.Errorf("read %v %v", mat.Formatted(s.X), s.Y)
	}
	wide, err := ReadLIBSVM(strings.NewReader(in), 5)
	if err != nil || wide.Features() != 5 {
		t.Errorf("features=5: %v, d=%d", err, wide.Features())
	}
	var buf bytes.Buffer
	if err := WriteLIBSVM(&buf, s); err != nil {
		t.Fatal(err)
	}
	back, err := ReadLIBSVM(bytes.NewReader(gz(t, buf.Bytes())), 3)
	if err != nil || !mat.Equal(back.X, s.X) || !equalFloats(back.Y, s.Y) {
		t.Errorf("round trip: %v", err)
	}
	for _, tc := range []struct{ in, want string }{
		{"1 2:1 1:3\n", "dataset: line 1: index 1 follows 2"},
		{"1 2:1 2:3\n", "index 2 follows 2"},
		{"1 0:1\n", "index \"0\" is not a positive integer"},
		{"1 1:1\n1 6:1\n", "dataset: line 2: index 6 exceeds the 5 features"},
		{"1 1-1\n", "\"1-1\" is not index:value"},
		{"x 1:1\n", "label \"x\" is not a finite number"},
		{"1 1:y\n", "value \"y\" is not a finite number"},
		{"1\n", "no features"},
	} {
		_, err := ReadLIBSVM(strings.NewReader(tc.in), 5)
		if tc.want == "no features" {
			_, err = ReadLIBSVM(strings.NewReader(tc.in), 0)
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want %q", tc.in, err, tc.want)
		}
	}
}

func TestSynthetic(t *testing.T) {
	gens := map[string]func(seed uint64) (*Set, error){
		"spirals": func(s uint64) (*Set, error) { return Spirals(101, 0.05, s) },
		"xor":     func(s uint64) (*Set, error) { return XOR(101, 0.05, s) },
		"circles": func(s uint64) (*Set, error) { return Circles(101, 0.05, 0.5, s) },
		"blobs":   func(s uint64) (*Set, error) { return Blobs(101, 4, 0.2, s) },
	}
	for name, gen := range gens {
		a, err := gen(7)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := gen(7)
		c, _ := gen(8)
		if !sameBits(a.X, b.X) || !equalFloats(a.Y, b.Y) {
			t.Errorf("%s: seed 7 twice gave different bits", name)
		}
		if mat.Equal(a.X, c.X) {
			t.Errorf("%s: seeds 7 and 8 gave the same points", name)
		}
		wantPos := 51
		if name == "blobs" {
			wantPos = 26 + 25 // blobs 0 and 2 of 4
		}
		if cnt := a.Counts(); cnt[1] != wantPos || cnt[-1] != 101-wantPos || a.Features() != 2 {
			t.Errorf("%s: counts %v, d=%d", name, cnt, a.Features())
		}
	}
	// Without noise the geometry is exact.
	circ, _ := Circles(50, 0, 0.3, 1)
	xor, _ := XOR(50, 0, 1)
	spi, _ := Spirals(50, 0, 1)
	for k := 0; k < 50; k++ {
		x := circ.X.RawRowView(k)
		want := 1.0
		if circ.Y[k] > 0 {
			want = 0.3
		}
		if r := math.Hypot(x[0], x[1]); math.Abs(r-want) > 1e-12 {
			t.Errorf("circles point %d at radius %v, want %v", k, r, want)
		}
		x = xor.X.RawRowView(k)
		if math.Abs(x[0]) > 1 || math.Abs(x[1]) > 1 || (x[0]*x[1] > 0) != (xor.Y[k] > 0) {
			t.Errorf("xor point %v labelled %v", x, xor.Y[k])
		}
		if x = spi.X.RawRowView(k); math.Hypot(x[0], x[1]) > 1 {
			t.Errorf("spiral point %v outside the unit disc", x)
		}
	}
	if _, err := Spirals(1, 0, 1); err == nil {
		t.Error("Spirals accepted n = 1")
	}
	if _, err := Circles(10, 0, 1.5, 1); err == nil {
		t.Error("Circles accepted factor 1.5")
	}
	if _, err := Blobs(10, 1, 0.1, 1); err == nil {
		t.Error("Blobs accepted one center")
	}
	if _, err := XOR(10, -1, 1); err == nil {
		t.Error("XOR accepted negative noise")
	}
}

func TestSplit(t *testing.T) {
	s, _ := Blobs(103, 2, 0.3, 1)
	s.Y[0], s.Y[2], s.Y[4] = -1, -1, -1 // unbalanced: 49 (+1) against 54 (−1)
	for _, stratify := range []bool{false, true} {
		tr, te, err := Split(s, 0.25, stratify, 9)
		if err != nil {
			t.Fatal(err)
		}
		if tr.Len()+te.Len() != s.Len() {
			t.Fatalf("split sizes %d + %d ≠ %d", tr.Len(), te.Len(), s.Len())
		}
		// Every row lands in exactly one part: match rows by their (unique) x.
		seen := map[[2]float64]int{}
		for _, part := range []*Set{tr, te} {
			for k := 0; k < part.Len(); k++ {
				seen[[2]float64(part.X.RawRowView(k))]++
			}
		}
		for k := 0; k < s.Len(); k++ {
			if seen[[2]float64(s.X.RawRowView(k))] != 1 {
				t.Fatalf("row %d appears %d times", k, seen[[2]float64(s.X.RawRowView(k))])
			}
		}
		if stratify {
			// round(0.25·49) = 12 and round(0.25·54) = 14 (13.5 rounds away from zero).
			if c := te.Counts(); c[1] != 12 || c[-1] != 14 {
				t.Errorf("stratified test counts %v, want +1:12 −1:14", c)
			}
		} else if te.Len() != 26 {
			t.Errorf("test set has %d points, want round(0.25·103) = 26", te.Len())
		}
		tr2, te2, _ := Split(s, 0.25, stratify, 9)
		if !sameBits(tr.X, tr2.X) || !sameBits(te.X, te2.X) {
			t.Error("same seed gave a different split")
		}
	}
	if _, _, err := Split(s, 1, false, 1); err == nil {
		t.Error("Split accepted test fraction 1")
	}
	if _, _, err := Split(s, 0.001, false, 1); err == nil || !strings.Contains(err.Error(), "0 test points") {
		t.Errorf("tiny fraction: error %v", err)
	}
}

func TestPairAndOneVsRest(t *testing.T) {
	s := &Set{X: mat.NewDense(5, 1, []float64{0, 1, 2, 3, 4}), Y: []float64{0, 1, 2, 1, 0}, Classes: []string{"a", "b", "c"}}
	p, err := s.Pair(1, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !equalFloats(p.Y, []float64{-1, 1, 1, -1}) || !equalFloats(mat.Col(nil, 0, p.X), []float64{0, 1, 3, 4}) || p.Classes != nil {
		t.Errorf("Pair(1, 0): X %v, Y %v", mat.Col(nil, 0, p.X), p.Y)
	}
	if _, err := s.Pair(5, 6); err == nil {
		t.Error("Pair of absent labels gave no error")
	}
	if _, err := s.Pair(1, 1); err == nil {
		t.Error("Pair(1, 1) gave no error")
	}
	o := s.OneVsRest(2)
	if !equalFloats(o.Y, []float64{-1, -1, 1, -1, -1}) {
		t.Errorf("OneVsRest(2) = %v", o.Y)
	}
	if _, err := s.Subset([]int{5}); err == nil {
		t.Error("Subset accepted row 5 of 5")
	}
}

func TestScaler(t *testing.T) {
	train := &Set{X: mat.NewDense(4, 3, []float64{1, 10, 7, 2, 20, 7, 3, 30, 7, 4, 40, 7}), Y: make([]float64, 4)}
	test := &Set{X: mat.NewDense(1, 3, []float64{2.5, 0, 8}), Y: make([]float64, 1)}
	tr, te, err := Standardize(train, test)
	if err != nil {
		t.Fatal(err)
	}
	for j := 0; j < 3; j++ {
		col := mat.Col(nil, j, tr.X)
		m, sd := mean(col), 0.0
		for _, v := range col {
			sd += (v - m) * (v - m)
		}
		sd = math.Sqrt(sd / 4)
		wantSD := 1.0
		if j == 2 {
			wantSD = 0 // constant column: centred only
		}
		if math.Abs(m) > 1e-15 || math.Abs(sd-wantSD) > 1e-15 {
			t.Errorf("column %d: mean %v, sd %v", j, m, sd)
		}
	}
	// Test points use the training statistics: mean 2.5, sd √1.25 for column 0.
	if got := te.X.RawRowView(0); got[0] != 0 || math.Abs(got[1]-(-25/math.Sqrt(125))) > 1e-15 || got[2] != 1 {
		t.Errorf("standardized test row %v", got)
	}
	sc, _ := FitScaler(train.X)
	if _, err := sc.Transform(mat.NewDense(1, 2, nil)); err == nil {
		t.Error("Transform accepted 2 columns for a 3-column scaler")
	}
	b := AddBias(train.X)
	if r, c := b.Dims(); r != 4 || c != 4 || !equalFloats(mat.Col(nil, 3, b), []float64{1, 1, 1, 1}) || b.At(2, 1) != 30 {
		t.Errorf("AddBias gave %v", mat.Formatted(b))
	}
}

func TestPath(t *testing.T) {
	p, err := Path(IrisFile)
	if err != nil {
		t.Fatal(err)
	}
	root, _ := filepath.Abs(filepath.Join("..", ".."))
	if want := filepath.Join(root, "notebooks", "data", IrisFile); p != want {
		t.Errorf("from the package directory: %s, want %s", p, want)
	}
	// A notebook runs with notebooks/ as its working directory.
	t.Chdir(filepath.Join(root, "notebooks"))
	if p2, err := Path(IrisFile); err != nil || p2 != p {
		t.Errorf("from notebooks/: %s, %v", p2, err)
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "x.csv"), []byte("1,0\n"), 0o644)
	t.Setenv(DataEnv, dir)
	if p3, err := Path("x.csv"); err != nil || p3 != filepath.Join(dir, "x.csv") {
		t.Errorf("with $%s: %s, %v", DataEnv, p3, err)
	}
	if _, err := Path(IrisFile); err == nil || !strings.Contains(err.Error(), "$GOCVX_DATA") {
		t.Errorf("file missing from $%s: error %v", DataEnv, err)
	}
	if _, err := Path("/etc/passwd"); err == nil {
		t.Error("Path accepted an absolute path")
	}
}

func mean(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

func equalFloats(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
			return false
		}
	}
	return true
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func sameBits(a, b *mat.Dense) bool {
	ra, ca := a.Dims()
	rb, cb := b.Dims()
	if ra != rb || ca != cb {
		return false
	}
	for i := 0; i < ra; i++ {
		if !equalFloats(a.RawRowView(i), b.RawRowView(i)) {
			return false
		}
	}
	return true
}
