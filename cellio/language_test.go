package cellio

import (
	"encoding/json"
	"reflect"
	"testing"
)

// TestLanguageInfoMap checks that Map holds what the JSON encoding of the struct
// holds, so that the kernel's kernel_info_reply and a notebook's metadata agree.
func TestLanguageInfoMap(t *testing.T) {
	l := Go()
	b, err := json.Marshal(l)
	if err != nil {
		t.Fatal(err)
	}
	var fromJSON map[string]any
	if err := json.Unmarshal(b, &fromJSON); err != nil {
		t.Fatal(err)
	}
	if m := l.Map(); !reflect.DeepEqual(m, fromJSON) {
		t.Errorf("Map() = %v\nJSON    = %v", m, fromJSON)
	}
	if l.Name != "go" || l.Version == "" || l.Version[0] == 'g' {
		t.Errorf("Go() = %+v", l)
	}
}
