package config

import (
	"encoding"
	"reflect"
	"strings"
	"time"
)

// encode turns a schema value into the form of a parsed YAML file (maps
// keyed by koanf tag, lists, and the text of durations and sizes), so that
// defaults go through the same decoding as every other layer.
func encode(v reflect.Value) any {
	if v.Type() == durationType {
		return time.Duration(v.Int()).String()
	}
	if m, ok := v.Interface().(encoding.TextMarshaler); ok {
		b, err := m.MarshalText()
		if err != nil {
			panic(err) // a schema type that cannot print its own default
		}
		return string(b)
	}
	switch v.Kind() {
	case reflect.Struct:
		out := map[string]any{}
		encodeFields(v, out)
		return out
	case reflect.Slice:
		// An empty list, not nil: a default list decodes to an empty slice.
		out := make([]any, v.Len())
		for i := range out {
			out[i] = encode(v.Index(i))
		}
		return out
	}
	return v.Interface()
}

func encodeFields(v reflect.Value, out map[string]any) {
	for f := range v.Type().Fields() {
		fv := v.FieldByIndex(f.Index)
		switch k := fieldOf(f); {
		case k.squash:
			encodeFields(fv, out)
		case k.key != "":
			out[k.key] = encode(fv)
		}
	}
}

// field is what a struct field's koanf tag says.
type field struct {
	key    string // "" for a field that is not a key
	squash bool   // a struct whose keys sit at its parent's level
	path   bool   // a path Load resolves
}

func fieldOf(f reflect.StructField) field {
	name, opts, _ := strings.Cut(f.Tag.Get("koanf"), ",")
	switch {
	case !f.IsExported() || name == "-":
		return field{}
	case name == "":
		return field{squash: hasOption(opts, "squash") && f.Type.Kind() == reflect.Struct}
	}
	return field{key: name, path: hasOption(opts, "path")}
}

func hasOption(opts, opt string) bool {
	for o := range strings.SplitSeq(opts, ",") {
		if o == opt {
			return true
		}
	}
	return false
}
