package symbols

import (
	"reflect"

	"github.com/traefik/yaegi/stdlib"
	"github.com/traefik/yaegi/stdlib/unrestricted"
)

// All returns the symbol tables cells can use, by "importpath/name": the
// standard library's (yaegi's, with the unrestricted os/exec) and Symbols. The
// map is new; the tables are shared.
func All() map[string]map[string]reflect.Value {
	all := make(map[string]map[string]reflect.Value, len(stdlib.Symbols)+1+len(Symbols))
	for k, v := range stdlib.Symbols {
		all[k] = v
	}
	all["os/exec/exec"] = unrestricted.Symbols["os/exec/exec"]
	for k, v := range Symbols {
		all[k] = v
	}
	return all
}
