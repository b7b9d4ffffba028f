package config

import "reflect"

// Normalise is normalise, for the external tests.
var Normalise = normalise

// LeafKeys lists every leaf key of the schema t; "[]" marks a list of
// sections.
func LeafKeys(t reflect.Type) []string { return leafKeys(t, "") }

func leafKeys(t reflect.Type, prefix string) []string {
	if isLeaf(t) {
		return []string{prefix}
	}
	if t.Kind() == reflect.Slice {
		return leafKeys(t.Elem(), prefix+"[]")
	}
	var out []string
	for k, ft := range fieldsByKey(t) {
		out = append(out, leafKeys(ft, joinKey(prefix, k))...)
	}
	return out
}
