package dataset

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"

	"gonum.org/v1/gonum/mat"
)

// IDX is an array read from the IDX format of the MNIST files: a big-endian header
// (two zero bytes, a type byte, the number of dimensions, each dimension as a uint32)
// followed by the entries in row-major order.
type IDX struct {
	Dims []int     // e.g. [10000 28 28] for images, [10000] for labels
	Data []float64 // the entries in row-major order, converted to float64
}

// IDX element types (the third header byte) and their sizes in bytes.
var idxSizes = map[byte]int{
	0x08: 1, // unsigned byte
	0x09: 1, // signed byte
	0x0B: 2, // int16
	0x0C: 4, // int32
	0x0D: 4, // float32
	0x0E: 8, // float64
}

// maxIDXEntries bounds the product of the dimensions (2³¹, far beyond any data set
// here) so that a corrupt header fails cleanly instead of exhausting memory.
const maxIDXEntries = 1 << 31

// ReadIDX reads one IDX array of any element type from r (gzip-compressed or plain).
func ReadIDX(r io.Reader) (*IDX, error) {
	r, err := uncompressed(r)
	if err != nil {
		return nil, err
	}
	var head [4]byte
	if _, err := io.ReadFull(r, head[:]); err != nil {
		return nil, fmt.Errorf("dataset: IDX header: %v", err)
	}
	if head[0] != 0 || head[1] != 0 {
		return nil, fmt.Errorf("dataset: not an IDX file (magic %02x%02x%02x%02x)", head[0], head[1], head[2], head[3])
	}
	size, ok := idxSizes[head[2]]
	if !ok {
		return nil, fmt.Errorf("dataset: unknown IDX element type 0x%02x", head[2])
	}
	rank := int(head[3])
	if rank == 0 {
		return nil, errors.New("dataset: IDX array has no dimensions")
	}
	dims := make([]int, rank)
	total := 1
	for i := range dims {
		var v uint32
		if err := binary.Read(r, binary.BigEndian, &v); err != nil {
			return nil, fmt.Errorf("dataset: IDX dimension %d: %v", i, err)
		}
		dims[i] = int(v)
		total *= dims[i]
		if total > maxIDXEntries {
			return nil, fmt.Errorf("dataset: IDX dimensions %v are too large", dims[:i+1])
		}
	}
	raw := make([]byte, total*size)
	if n, err := io.ReadFull(r, raw); err != nil {
		return nil, fmt.Errorf("dataset: IDX data: got %d of %d entries (%v)", n/size, total, err)
	}
	data := make([]float64, total)
	be := binary.BigEndian
	for i := range data {
		b := raw[i*size : (i+1)*size]
		switch head[2] {
		case 0x08:
			data[i] = float64(b[0])
		case 0x09:
			data[i] = float64(int8(b[0]))
		case 0x0B:
			data[i] = float64(int16(be.Uint16(b)))
		case 0x0C:
			data[i] = float64(int32(be.Uint32(b)))
		case 0x0D:
			data[i] = float64(math.Float32frombits(be.Uint32(b)))
		case 0x0E:
			data[i] = math.Float64frombits(be.Uint64(b))
		}
	}
	return &IDX{Dims: dims, Data: data}, nil
}

// WriteIDX writes x as an unsigned-byte IDX array (the type of the MNIST files); every
// entry must be an integer in [0, 255].
func WriteIDX(w io.Writer, x *IDX) error {
	if x == nil || len(x.Dims) == 0 || len(x.Dims) > 255 {
		return errors.New("dataset: IDX array needs 1 to 255 dimensions")
	}
	total := 1
	for _, d := range x.Dims {
		if d < 0 || d > math.MaxUint32 {
			return fmt.Errorf("dataset: IDX dimension %d out of range", d)
		}
		total *= d
	}
	if total != len(x.Data) {
		return fmt.Errorf("dataset: IDX dimensions %v hold %d entries, data has %d", x.Dims, total, len(x.Data))
	}
	bw := bufio.NewWriter(w)
	bw.Write([]byte{0, 0, 0x08, byte(len(x.Dims))})
	for _, d := range x.Dims {
		binary.Write(bw, binary.BigEndian, uint32(d))
	}
	for i, v := range x.Data {
		if v != math.Trunc(v) || v < 0 || v > 255 {
			return fmt.Errorf("dataset: IDX entry %d is %v, not a byte", i, v)
		}
		bw.WriteByte(byte(v))
	}
	return bw.Flush()
}

// ReadMNIST reads MNIST images and labels (IDX files, gzip-compressed or plain) into a
// Set: row k of X holds image k's pixels in row-major order scaled to [0, 1] (byte/255),
// and Y holds the digits 0…9.
func ReadMNIST(images, labels io.Reader) (*Set, error) {
	img, err := ReadIDX(images)
	if err != nil {
		return nil, fmt.Errorf("images: %w", err)
	}
	lab, err := ReadIDX(labels)
	if err != nil {
		return nil, fmt.Errorf("labels: %w", err)
	}
	if len(img.Dims) != 3 {
		return nil, fmt.Errorf("dataset: MNIST images have dimensions %v, want n×rows×cols", img.Dims)
	}
	if len(lab.Dims) != 1 {
		return nil, fmt.Errorf("dataset: MNIST labels have dimensions %v, want n", lab.Dims)
	}
	n, pixels := img.Dims[0], img.Dims[1]*img.Dims[2]
	if lab.Dims[0] != n {
		return nil, fmt.Errorf("dataset: %d MNIST images but %d labels", n, lab.Dims[0])
	}
	if n == 0 || pixels == 0 {
		return nil, errors.New("dataset: no MNIST images")
	}
	for k, y := range lab.Data {
		if y != math.Trunc(y) || y < 0 || y > 9 {
			return nil, fmt.Errorf("dataset: MNIST label %d is %v, not a digit", k, y)
		}
	}
	for i := range img.Data {
		img.Data[i] /= 255
	}
	s := &Set{X: mat.NewDense(n, pixels, img.Data), Y: lab.Data, Classes: make([]string, 10)}
	for c := range s.Classes {
		s.Classes[c] = fmt.Sprint(c)
	}
	return s, nil
}

// LoadMNIST reads MNIST from an images file and a labels file (see ReadMNIST).
func LoadMNIST(imagesPath, labelsPath string) (*Set, error) {
	fi, err := os.Open(imagesPath)
	if err != nil {
		return nil, fmt.Errorf("dataset: %v", err)
	}
	defer fi.Close()
	fl, err := os.Open(labelsPath)
	if err != nil {
		return nil, fmt.Errorf("dataset: %v", err)
	}
	defer fl.Close()
	return ReadMNIST(fi, fl)
}
