package display

import "github.com/gocvx/gocvx/cellio"

// Bundle is a MIME bundle, as Jupyter's display_data and execute_result carry it: Data
// maps a MIME type to its payload (a string, or for JSON types a decoded JSON value;
// binary types such as image/png are base64 strings) and Metadata maps a MIME type to
// a map of that type's metadata (e.g. image width and height). It is the bundle of
// package cellio, which the kernel and the notebook runner pass on as it is.
type Bundle = cellio.Bundle
