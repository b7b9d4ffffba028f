package config

import (
	"encoding"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-viper/mapstructure/v2"
)

var (
	durationType      = reflect.TypeFor[time.Duration]()
	textUnmarshalType = reflect.TypeFor[encoding.TextUnmarshaler]()
	stringSliceType   = reflect.TypeFor[[]string]()
)

// decoderConfig is strict: keys match exactly, and the only conversions are
// the ones a YAML file or an environment variable needs (a string to a bool,
// a duration, a size; a number to a string; one string to a list of one).
func decoderConfig(result any, errorUnused bool) *mapstructure.DecoderConfig {
	return &mapstructure.DecoderConfig{
		DecodeHook:  decodeHook,
		ErrorUnused: errorUnused,
		MatchName:   func(a, b string) bool { return a == b },
		TagName:     "koanf",
		Result:      result,
	}
}

func decode(m map[string]any, out any) error {
	d, err := mapstructure.NewDecoder(decoderConfig(out, false))
	if err != nil {
		return err
	}
	return d.Decode(m)
}

func decodeHook(from, to reflect.Type, data any) (any, error) {
	switch {
	case to == durationType:
		return decodeDuration(data)
	case reflect.PointerTo(to).Implements(textUnmarshalType):
		return decodeText(to, data)
	case to.Kind() == reflect.Bool && from.Kind() == reflect.String:
		b, err := strconv.ParseBool(strings.TrimSpace(data.(string)))
		if err != nil {
			return nil, fmt.Errorf("invalid boolean %q (want true or false)", data)
		}
		return b, nil
	case to.Kind() == reflect.String && isNumber(from):
		return fmt.Sprint(data), nil
	case to == stringSliceType && from.Kind() == reflect.String:
		return []string{data.(string)}, nil
	case to.Kind() == reflect.Struct && from.Kind() != reflect.Map && from != to:
		return nil, fmt.Errorf("expected a map, got %s", kindName(from.Kind()))
	case to.Kind() == reflect.Slice && from.Kind() != reflect.Slice:
		return nil, fmt.Errorf("expected a list, got %s", kindName(from.Kind()))
	}
	return data, nil
}

func isNumber(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return true
	}
	return false
}

// decodeDuration accepts "30s", "1h30m"; a bare number is refused unless it
// is 0, since "30" could mean seconds or nanoseconds.
func decodeDuration(data any) (any, error) {
	v := reflect.ValueOf(data)
	switch {
	case v.Type() == durationType:
		return data, nil
	case v.Kind() == reflect.String:
		d, err := time.ParseDuration(strings.TrimSpace(v.String()))
		if err != nil {
			return nil, fmt.Errorf("invalid duration %q (want e.g. 30s, 5m, 1h)", v.String())
		}
		return d, nil
	case isNumber(v.Type()):
		if v.IsZero() {
			return time.Duration(0), nil
		}
		return nil, fmt.Errorf("duration %v needs a unit (e.g. 30s, 5m, 1h)", data)
	}
	return nil, fmt.Errorf("expected a duration such as 30s, got %s", kindName(v.Kind()))
}

// decodeText parses strings (and numbers, which YAML gives for plain byte
// counts) through the target's UnmarshalText.
func decodeText(to reflect.Type, data any) (any, error) {
	v := reflect.ValueOf(data)
	if v.Type() == to {
		return data, nil
	}
	var text string
	switch {
	case v.Kind() == reflect.String:
		text = v.String()
	case v.Kind() == reflect.Float32 || v.Kind() == reflect.Float64:
		text = strconv.FormatFloat(v.Float(), 'f', -1, 64)
	case isNumber(v.Type()):
		text = fmt.Sprint(data)
	default:
		return nil, fmt.Errorf("expected a string, got %s", kindName(v.Kind()))
	}
	p := reflect.New(to)
	if err := p.Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(text)); err != nil {
		return nil, err
	}
	return p.Elem().Interface(), nil
}

func kindName(k reflect.Kind) string {
	switch k {
	case reflect.Map, reflect.Struct:
		return "a map"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Invalid:
		return "nothing"
	}
	return "a number"
}

// decodeProblems turns mapstructure's joined errors into one problem per
// key, "key: message<where>".
func decodeProblems(err error, where func(key string) string) []error {
	var out []error
	var walk func(error)
	walk = func(e error) {
		var de *mapstructure.DecodeError
		switch {
		case e == nil:
		case isJoin(e):
			for _, c := range e.(interface{ Unwrap() []error }).Unwrap() {
				walk(c)
			}
		case isJoin(errors.Unwrap(e)): // "decoding failed due to ...: %w"
			walk(errors.Unwrap(e))
		case errors.As(e, &de):
			key := de.Name()
			if key == "" {
				key = "config"
			}
			out = append(out, fmt.Errorf("%s: %s%s", key, describe(de.Unwrap()), where(key)))
		default:
			out = append(out, e)
		}
	}
	walk(err)
	return out
}

func isJoin(e error) bool {
	_, ok := e.(interface{ Unwrap() []error }) // false for nil
	return ok
}

func describe(err error) string {
	var ute *mapstructure.UnconvertibleTypeError
	if errors.As(err, &ute) {
		got := kindName(reflect.ValueOf(ute.Value).Kind())
		if _, ok := ute.Value.(time.Time); ok {
			got = "a timestamp" // YAML reads 2024-01-01 as one; quote it for a string
		}
		return fmt.Sprintf("expected %s, got %s", kindName(ute.Expected.Kind()), got)
	}
	return err.Error()
}

// unknownKeys lists the keys in v that t has no field for, as full keys
// ("log.colour", "origins[1].wach"), sorted.
func unknownKeys(v any, t reflect.Type, prefix string) []string {
	if isLeaf(t) {
		return nil
	}
	var out []string
	switch t.Kind() {
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			return nil // a type error, reported by the decoder
		}
		fields := fieldsByKey(t)
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			full := joinKey(prefix, k)
			ft, ok := fields[k]
			if !ok {
				out = append(out, full)
				continue
			}
			out = append(out, unknownKeys(m[k], ft, full)...)
		}
	case reflect.Slice:
		list, ok := v.([]any)
		if !ok {
			return nil
		}
		for i, e := range list {
			out = append(out, unknownKeys(e, t.Elem(), fmt.Sprintf("%s[%d]", prefix, i))...)
		}
	}
	return out
}

// isLeaf reports whether t is a single value in the configuration rather
// than a section or a list of sections.
func isLeaf(t reflect.Type) bool {
	if t == durationType || reflect.PointerTo(t).Implements(textUnmarshalType) {
		return true
	}
	switch t.Kind() {
	case reflect.Struct:
		return false
	case reflect.Slice:
		return isLeaf(t.Elem())
	}
	return true
}

// fieldsByKey maps key → field type for the struct t, with the keys of its
// squashed structs.
func fieldsByKey(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for f := range t.Fields() {
		switch k := fieldOf(f); {
		case k.squash:
			maps.Copy(out, fieldsByKey(f.Type))
		case k.key != "":
			out[k.key] = f.Type
		}
	}
	return out
}

// joinKey appends k to a dotted key, quoting it when it could be misread.
func joinKey(prefix, k string) string {
	if k == "" || strings.ContainsAny(k, ". \t\n[]\"") {
		k = strconv.Quote(k)
	}
	if prefix == "" {
		return k
	}
	return prefix + "." + k
}
