package interp

import (
	"go/ast"
	"go/constant"
	"go/types"
	"math"
)

// A cell that is one constant expression of a basic type (1 + 1, math.Pi,
// len("abc"), 7 / 2.0) has its value computed by the type checker, exactly, as
// the Go compiler computes it: the cell shows that value, converted to the
// expression's type (the default type of an untyped constant, as the cell
// function's gocvxrt.Result would receive it), without compiling anything into
// the interpreter or running it. Nothing else can happen in such a cell: it
// calls nothing, prints nothing and cannot panic. A constant that its type
// cannot hold (1 << 70 as an int) and a complex or named type (time.Second,
// whose String method shows it) take the ordinary path, which reports or
// renders them.

// constResult returns the value the compiled cell shows, when it is a
// constant expression that constValue converts; ok is false otherwise.
func constResult(comp *compiled) (v any, ok bool) {
	pc := comp.pc
	if len(pc.stmts) != 1 || len(pc.funcs) != 0 || pc.program || !comp.inert || comp.replay ||
		len(comp.newDecls) != 0 || len(comp.newVars) != 0 || len(comp.notes) != 0 {
		return nil, false
	}
	es, ok := pc.stmts[0].(*ast.ExprStmt)
	if !ok {
		return nil, false
	}
	tv, ok := comp.info.Types[es.X]
	if !ok || tv.Value == nil {
		return nil, false
	}
	basic, ok := tv.Type.(*types.Basic)
	if !ok {
		return nil, false
	}
	return constValue(tv.Value, basic.Kind())
}

// constValue converts the constant c to the Go value of kind k (of an untyped
// kind, to its default type), if k is a boolean, string, integer or real kind
// that can hold c exactly (a real up to rounding, without overflow).
func constValue(c constant.Value, k types.BasicKind) (any, bool) {
	switch k {
	case types.Bool, types.UntypedBool:
		if c.Kind() == constant.Bool {
			return constant.BoolVal(c), true
		}
	case types.String, types.UntypedString:
		if c.Kind() == constant.String {
			return constant.StringVal(c), true
		}
	case types.Int, types.UntypedInt:
		if x, ok := intIn(c, math.MinInt, math.MaxInt); ok {
			return int(x), true
		}
	case types.Int8:
		if x, ok := intIn(c, math.MinInt8, math.MaxInt8); ok {
			return int8(x), true
		}
	case types.Int16:
		if x, ok := intIn(c, math.MinInt16, math.MaxInt16); ok {
			return int16(x), true
		}
	case types.Int32, types.UntypedRune:
		if x, ok := intIn(c, math.MinInt32, math.MaxInt32); ok {
			return int32(x), true
		}
	case types.Int64:
		if x, ok := intIn(c, math.MinInt64, math.MaxInt64); ok {
			return x, true
		}
	case types.Uint8:
		if x, ok := uintIn(c, math.MaxUint8); ok {
			return uint8(x), true
		}
	case types.Uint16:
		if x, ok := uintIn(c, math.MaxUint16); ok {
			return uint16(x), true
		}
	case types.Uint32:
		if x, ok := uintIn(c, math.MaxUint32); ok {
			return uint32(x), true
		}
	case types.Uint, types.Uint64, types.Uintptr:
		x, ok := uintIn(c, math.MaxUint)
		switch {
		case !ok:
		case k == types.Uint:
			return uint(x), true
		case k == types.Uint64:
			return x, true
		default:
			return uintptr(x), true
		}
	case types.Float64, types.UntypedFloat:
		if c.Kind() == constant.Int || c.Kind() == constant.Float {
			if x, _ := constant.Float64Val(c); !math.IsInf(x, 0) {
				return x, true
			}
		}
	case types.Float32:
		if c.Kind() == constant.Int || c.Kind() == constant.Float {
			if x, _ := constant.Float32Val(c); !math.IsInf(float64(x), 0) {
				return x, true
			}
		}
	}
	return nil, false
}

// intIn returns the integer constant c if it lies in [lo, hi].
func intIn(c constant.Value, lo, hi int64) (int64, bool) {
	if c.Kind() != constant.Int {
		return 0, false
	}
	x, exact := constant.Int64Val(c)
	return x, exact && lo <= x && x <= hi
}

// uintIn returns the integer constant c if it lies in [0, hi].
func uintIn(c constant.Value, hi uint64) (uint64, bool) {
	if c.Kind() != constant.Int {
		return 0, false
	}
	x, exact := constant.Uint64Val(c)
	return x, exact && x <= hi
}
