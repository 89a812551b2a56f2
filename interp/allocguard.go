package interp

import (
	"math"
	"reflect"

	"gonum.org/v1/gonum/mat"
)

// matAllocGuards returns gonum/mat's constructors that allocate what their size
// arguments say, wrapped to compare that size with the memory ceiling first. Go
// cannot recover from an allocation that the system refuses: a typing slip such as
// mat.NewDense(100000, 100000, nil) (80 GB) would end the kernel; with the guard it
// is a MemoryError, as an oversized make in a cell is (see rewriteMake). A
// constructor given its data allocates nothing and is not checked; sizes that are
// not positive are left to gonum's own panics.
func (s *Session) matAllocGuards() map[string]reflect.Value {
	return map[string]reflect.Value{
		"NewDense": reflect.ValueOf(func(r, c int, data []float64) *mat.Dense {
			if data == nil {
				s.checkAlloc(8, r, c)
			}
			return mat.NewDense(r, c, data)
		}),
		"NewCDense": reflect.ValueOf(func(r, c int, data []complex128) *mat.CDense {
			if data == nil {
				s.checkAlloc(16, r, c)
			}
			return mat.NewCDense(r, c, data)
		}),
		"NewVecDense": reflect.ValueOf(func(n int, data []float64) *mat.VecDense {
			if data == nil {
				s.checkAlloc(8, n)
			}
			return mat.NewVecDense(n, data)
		}),
		"NewSymDense": reflect.ValueOf(func(n int, data []float64) *mat.SymDense {
			if data == nil {
				s.checkAlloc(8, n, n)
			}
			return mat.NewSymDense(n, data)
		}),
		"NewTriDense": reflect.ValueOf(func(n int, kind mat.TriKind, data []float64) *mat.TriDense {
			if data == nil {
				s.checkAlloc(8, n, n)
			}
			return mat.NewTriDense(n, kind, data)
		}),
		"NewDiagDense": reflect.ValueOf(func(n int, data []float64) *mat.DiagDense {
			if data == nil {
				s.checkAlloc(8, n)
			}
			return mat.NewDiagDense(n, data)
		}),
		"NewDiagonalRect": reflect.ValueOf(func(r, c int, data []float64) *mat.BandDense {
			if data == nil {
				s.checkAlloc(8, min(r, c))
			}
			return mat.NewDiagonalRect(r, c, data)
		}),
		"NewBandDense": reflect.ValueOf(func(r, c, kl, ku int, data []float64) *mat.BandDense {
			if data == nil && kl >= 0 && ku >= 0 {
				s.checkAlloc(8, min(r, c+kl), kl+ku+1)
			}
			return mat.NewBandDense(r, c, kl, ku, data)
		}),
		"NewSymBandDense": reflect.ValueOf(func(n, k int, data []float64) *mat.SymBandDense {
			if data == nil && k >= 0 {
				s.checkAlloc(8, n, k+1)
			}
			return mat.NewSymBandDense(n, k, data)
		}),
		"NewTriBandDense": reflect.ValueOf(func(n, k int, kind mat.TriKind, data []float64) *mat.TriBandDense {
			if data == nil && k >= 0 {
				s.checkAlloc(8, n, k+1)
			}
			return mat.NewTriBandDense(n, k, kind, data)
		}),
	}
}

// checkAlloc panics with a memoryError when an allocation of the product of dims
// elements of size bytes each would pass the memory ceiling. Dimensions that are not
// positive are not checked.
func (s *Session) checkAlloc(size int64, dims ...int) {
	elems := int64(1)
	for _, d := range dims {
		if d <= 0 {
			return
		}
		if elems > math.MaxInt64/int64(d) {
			elems = math.MaxInt64
			break
		}
		elems *= int64(d)
	}
	s.makeLen(elems, size)
}
