package config

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"reflect"
	"strings"
	"syscall"

	"github.com/knadh/koanf/parsers/yaml"
	"github.com/knadh/koanf/providers/confmap"
	"github.com/knadh/koanf/providers/env/v2"
	"github.com/knadh/koanf/v2"
)

// EnvPrefix starts every environment variable Load reads; nested keys are
// joined by "__": MUSICFS_LOG__LEVEL, MUSICFS_CACHE__MAX_SIZE.
const EnvPrefix = "MUSICFS_"

// Load builds the configuration described by s from, lowest precedence
// first: the defaults, the YAML file named by --config, MUSICFS_ environment
// variables (from environ, in os.Environ form) and the other flags in args
// (os.Args[1:] without a subcommand). Unknown keys, values of the wrong type
// and usage mistakes are reported together, each naming its key; every
// error wraps ErrInvalid, except -h/--help which wraps flag.ErrHelp and
// carries the usage.
//
// Load does not look at the filesystem beyond reading the file: the caller
// validates. Path fields come back absolute (relative ones against the
// working directory) with a leading "~/" expanded.
func Load[T any](args, environ []string, s Schema[T]) (*T, error) {
	fl, err := parseFlags(args)
	if err != nil {
		return nil, err
	}
	envm := environMap(environ)
	if envm["HOME"] == "" {
		envm["HOME"], _ = os.UserHomeDir()
	}
	home, cwd := envm["HOME"], workingDir()
	typ := reflect.TypeFor[T]()
	lists := map[string]map[string]any{}
	for key, v := range s.ListDefaults {
		lists[key] = encode(reflect.ValueOf(v)).(map[string]any)
	}

	k := koanf.New(".")
	defaults := encode(reflect.ValueOf(s.Defaults(Env{EUID: os.Geteuid(), Vars: envm}))).(map[string]any)
	if err := k.Load(confmap.Provider(defaults, ""), nil); err != nil {
		return nil, Invalid(fmt.Errorf("defaults: %w", err))
	}

	var problems []error
	if fl.config != "" {
		path := resolvePath(fl.config, home, cwd)
		m, err := readYAML(path, lists)
		if err != nil {
			return nil, Invalid(fmt.Errorf("--config %s: %w", path, err))
		}
		in := " (in " + path + ")"
		problems = append(problems, checkLayer(m, typ, func(string) string { return in })...)
		if err := k.Load(confmap.Provider(m, ""), nil); err != nil {
			return nil, Invalid(fmt.Errorf("--config %s: %w", path, err))
		}
	}

	m, vars, err := readEnv(environ, lists)
	if err != nil {
		return nil, Invalid(fmt.Errorf("environment: %w", err))
	}
	problems = append(problems, checkLayer(m, typ, func(key string) string {
		if v, ok := vars[key]; ok {
			return " (from " + v + ")"
		}
		return " (from the environment)"
	})...)
	if len(problems) > 0 {
		return nil, Invalid(problems...)
	}
	if err := k.Load(confmap.Provider(m, ""), nil); err != nil {
		return nil, Invalid(fmt.Errorf("environment: %w", err))
	}

	if err := k.Load(confmap.Provider(fillLists(fl.layer(home, cwd), lists), ""), nil); err != nil {
		return nil, Invalid(fmt.Errorf("flags: %w", err))
	}

	cfg := new(T)
	if err := k.UnmarshalWithConf("", cfg, koanf.UnmarshalConf{DecoderConfig: decoderConfig(cfg, true)}); err != nil {
		return nil, Invalid(decodeProblems(err, func(string) string { return "" })...)
	}
	resolvePaths(reflect.ValueOf(cfg).Elem(), home, cwd)
	return cfg, nil
}

// maxConfigSize bounds the config file: anything larger is not a config
// file, and reading it must not take the daemon's memory or time.
const maxConfigSize = 1 << 20

// readYAML reads and parses a config file into a normalised map.
func readYAML(path string, lists map[string]map[string]any) (m map[string]any, err error) {
	b, err := readConfigFile(path)
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return nil, pe.Err // the caller names the file
	}
	if err != nil {
		return nil, err
	}
	// The parser is third-party code fed arbitrary input: a panic in it is a
	// bad file, not a reason to die without saying which file.
	defer func() {
		if r := recover(); r != nil {
			m, err = nil, fmt.Errorf("parse YAML: %v", r)
		}
	}()
	raw, err := yaml.Parser().Unmarshal(b)
	if err != nil {
		return nil, err
	}
	return normaliseLayer(raw, lists), nil
}

// readConfigFile reads path if it is a regular file of at most
// maxConfigSize bytes. O_NONBLOCK: opening a FIFO must not wait for a
// writer; a device such as /dev/zero is refused before any read.
func readConfigFile(path string) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("not a regular file (%s)", fi.Mode().Type())
	}
	if fi.Size() > maxConfigSize {
		return nil, fmt.Errorf("larger than 1 MiB (%d bytes)", fi.Size())
	}
	// The size may change under us: the limit holds whatever it says.
	b, err := io.ReadAll(io.LimitReader(f, maxConfigSize+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxConfigSize {
		return nil, errors.New("larger than 1 MiB")
	}
	return b, nil
}

// readEnv returns the MUSICFS_ variables as a nested map, and which variable
// each flattened key came from.
func readEnv(environ []string, lists map[string]map[string]any) (map[string]any, map[string]string, error) {
	vars := map[string]string{}
	p := env.Provider(".", env.Opt{
		Prefix:      EnvPrefix,
		EnvironFunc: func() []string { return environ },
		TransformFunc: func(name, value string) (string, any) {
			key := strings.ToLower(strings.TrimPrefix(name, EnvPrefix))
			key = strings.ReplaceAll(key, "__", ".")
			if key != "" {
				vars[key] = name
			}
			return key, value
		},
	})
	m, err := p.Read()
	if err != nil {
		return nil, nil, err
	}
	return normaliseLayer(m, lists), vars, nil
}

// normaliseLayer gives every nested map string keys, drops null values (an
// empty `cache:` section means "nothing set here", not "erase the
// defaults") and fills in the list elements' defaults.
func normaliseLayer(m map[string]any, lists map[string]map[string]any) map[string]any {
	out, _ := normalise(m).(map[string]any)
	if out == nil {
		out = map[string]any{}
	}
	return fillLists(out, lists)
}

// fillLists sets, in each element of a top-level list that has defaults,
// the fields it leaves out.
func fillLists(m map[string]any, lists map[string]map[string]any) map[string]any {
	for key, defaults := range lists {
		list, _ := m[key].([]any)
		for _, e := range list {
			if em, ok := e.(map[string]any); ok {
				for k, v := range defaults {
					if _, set := em[k]; !set {
						em[k] = v
					}
				}
			}
		}
	}
	return m
}

func normalise(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			if e != nil {
				out[k] = normalise(e)
			}
		}
		return out
	case map[any]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			if e != nil {
				out[fmt.Sprint(k)] = normalise(e)
			}
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = normalise(e)
		}
		return out
	}
	return v
}

// checkLayer reports unknown keys and values that cannot be decoded in one
// layer on its own, so each problem can say where it came from.
func checkLayer(m map[string]any, typ reflect.Type, where func(key string) string) []error {
	var problems []error
	for _, key := range unknownKeys(m, typ, "") {
		problems = append(problems, fmt.Errorf("%s: unknown key%s", key, where(key)))
	}
	if err := decode(m, reflect.New(typ).Interface()); err != nil {
		problems = append(problems, decodeProblems(err, where)...)
	}
	return problems
}

// flags holds the command line after parsing.
type flags struct {
	config  string
	set     map[string]any // flattened key → value, only flags given
	origins []string
}

// originList collects repeated --origin flags.
type originList []string

func (o *originList) String() string     { return strings.Join(*o, ",") }
func (o *originList) Set(v string) error { *o = append(*o, v); return nil }

func parseFlags(args []string) (*flags, error) {
	var out bytes.Buffer
	fs := flag.NewFlagSet("musicfs", flag.ContinueOnError)
	fs.SetOutput(&out)
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "Usage: musicfs [flags]\n\nFlags override the config file and MUSICFS_* environment variables.\n\n")
		fs.VisitAll(func(f *flag.Flag) {
			arg, text := flag.UnquoteUsage(f)
			if arg != "" {
				arg = " " + arg
			}
			fmt.Fprintf(w, "  --%s%s\n    \t%s\n", f.Name, arg, text)
		})
	}
	var (
		fl      flags
		origins originList
	)
	fs.StringVar(&fl.config, "config", "", "read the YAML configuration `file`")
	mountpoint := fs.String("mountpoint", "", "mount the library at `dir` (mountpoint)")
	fs.Var(&origins, "origin", "add an origin `[name=]dir`, repeatable; replaces the file's origins")
	cacheDir := fs.String("cache-dir", "", "keep the cache in `dir` (cache.dir)")
	stateDir := fs.String("state-dir", "", "keep persisted state in `dir` (state_dir)")
	logLevel := fs.String("log-level", "", "log `level`: debug, info, warn or error (log.level)")
	allowOther := fs.Bool("allow-other", false, "let other users read the mount (allow_other)")

	if err := fs.Parse(args); err != nil {
		text := strings.TrimSpace(out.String())
		if errors.Is(err, flag.ErrHelp) {
			return nil, &usageError{err: err, usage: text, help: true}
		}
		return nil, &usageError{err: err, usage: text}
	}
	if fs.NArg() > 0 {
		out.Reset()
		fs.Usage()
		return nil, &usageError{err: fmt.Errorf("unexpected argument %q", fs.Arg(0)), usage: strings.TrimSpace(out.String())}
	}

	fl.set = map[string]any{}
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "mountpoint":
			fl.set["mountpoint"] = *mountpoint
		case "cache-dir":
			fl.set["cache.dir"] = *cacheDir
		case "state-dir":
			fl.set["state_dir"] = *stateDir
		case "log-level":
			fl.set["log.level"] = *logLevel
		case "allow-other":
			fl.set["allow_other"] = *allowOther
		case "origin":
			fl.origins = origins
		}
	})
	return &fl, nil
}

// layer is the flags as a nested map. --origin values become origins; a
// name left out is derived from the directory.
func (fl *flags) layer(home, cwd string) map[string]any {
	m := map[string]any{}
	for k, v := range fl.set {
		m[k] = v
	}
	if fl.origins != nil {
		taken := map[string]bool{}
		type parsed struct{ name, path string }
		var list []parsed
		for _, o := range fl.origins {
			name, path := splitOrigin(o)
			path = resolvePath(path, home, cwd)
			list = append(list, parsed{name, path})
			if name != "" {
				taken[name] = true
			}
		}
		origins := make([]any, 0, len(list))
		for _, o := range list {
			if o.name == "" {
				o.name = uniqueName(originName(o.path), taken)
				taken[o.name] = true
			}
			origins = append(origins, map[string]any{"name": o.name, "path": o.path})
		}
		m["origins"] = origins
	}
	out, _ := confmap.Provider(m, ".").Read() // never fails
	return out
}
