package ifaces

import (
	"bufio"
	"encoding/json"
	"image"
	"reflect"
	"slices"
	"strconv"
	"testing"
)

func TestPackages(t *testing.T) {
	var counter int
	for _, tc := range []struct {
		name  string
		table map[string]reflect.Value
		want  []string
	}{
		{"a parameter", map[string]reflect.Value{"NewWriter": reflect.ValueOf(bufio.NewWriter)}, []string{"io"}},
		{"constants and basic functions", map[string]reflect.Value{
			"IntSize": reflect.ValueOf(strconv.IntSize),
			"Itoa":    reflect.ValueOf(strconv.Itoa),
			"Counter": reflect.ValueOf(&counter).Elem(),
		}, []string{}},
		// json.Marshal takes any, which yaegi tries as json.Marshaler and
		// encoding.TextMarshaler (stdlib.MapTypes).
		{"tried at run time", map[string]reflect.Value{"Marshal": reflect.ValueOf(json.Marshal)}, []string{"encoding", "encoding/json"}},
	} {
		if got := Packages(tc.table); !slices.Equal(got, tc.want) {
			t.Errorf("%s: Packages = %q, want %q", tc.name, got, tc.want)
		}
	}
	// A type: its field C and its method At are of type color.Color.
	got := Packages(map[string]reflect.Value{"Uniform": reflect.ValueOf((*image.Uniform)(nil))})
	if !slices.Contains(got, "image/color") {
		t.Errorf("Packages(image.Uniform) = %q, lacks image/color", got)
	}
}
