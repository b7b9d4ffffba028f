package tree

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// OriginsDir is the top-level directory of the raw view; no tag view may use
// its name.
const OriginsDir = "Origins"

// View is one configured tag view: a top-level directory whose contents are
// rendered from each audio track through Template.
type View struct {
	Name     string `koanf:"name"`
	Template string `koanf:"template"`
}

// Config is the tree module's slice of the root configuration.
type Config struct {
	// Views are the tag views: DefaultViews unless configured; none leaves
	// only Origins/.
	Views []View `koanf:"views"`
	Tags  Tags   `koanf:"tags"`
}

// Tags is the `tags:` section: how tag values become names.
type Tags struct {
	// VariousArtists is the album artist shown for compilations (tracks
	// flagged as such, or whose album artist is "Various Artists", "VA", …).
	VariousArtists string `koanf:"various_artists"`
	// Separator joins the values of a field with several (artists, genres)
	// where a name shows them all: "{artist}" renders "A, B".
	Separator string `koanf:"separator"`
}

// Defaults of Config's fields.
const (
	DefaultVariousArtists = "Various Artists"
	DefaultSeparator      = ", "
)

// maxSeparator bounds tags.separator.
const maxSeparator = 16

// DefaultViews are the views shown when the configuration names none.
func DefaultViews() []View {
	return []View{
		{Name: "Artists", Template: "{albumartist}/{album} ({year})/{disc}-{track:02} {title}.{ext}"},
		{Name: "Albums", Template: "{album} ({year}) - {albumartist}/{disc}-{track:02} {title}.{ext}"},
		{Name: "Genres", Template: "{genre}/{albumartist}/{album}/{disc}-{track:02} {title}.{ext}"},
		{Name: "Years", Template: "{year}/{albumartist} - {album}/{disc}-{track:02} {title}.{ext}"},
	}
}

// DefaultConfig returns the configuration used when nothing is configured.
func DefaultConfig() Config {
	return Config{Views: DefaultViews(), Tags: Tags{VariousArtists: DefaultVariousArtists, Separator: DefaultSeparator}}
}

// withDefaults fills the empty display options (not the views: no views is
// a valid tree of Origins/ only).
func (c Config) withDefaults() Config {
	if c.Tags.VariousArtists == "" {
		c.Tags.VariousArtists = DefaultVariousArtists
	}
	if c.Tags.Separator == "" {
		c.Tags.Separator = DefaultSeparator
	}
	return c
}

// Validate checks one view. Errors start with the sub-key at fault ("name: …"
// or "template: …") so that the caller can prefix the view's own key.
func (v View) Validate() error {
	if err := validateViewName(v.Name); err != nil {
		return fmt.Errorf("name: %w", err)
	}
	if _, err := parseTemplate(v.Template); err != nil {
		return fmt.Errorf("template: %w", err)
	}
	return nil
}

func validateViewName(name string) error {
	switch {
	case name == "":
		return errors.New("must not be empty")
	case name == OriginsDir:
		return fmt.Errorf("%q is reserved for the raw origin view", name)
	case sanitize(name, false) != name:
		return fmt.Errorf("%q is not a valid single path element", name)
	}
	return nil
}

// Validate reports every problem with the views (one per view at most) and
// the display options. Errors name the full key, e.g.
// `views[1].name: duplicate "Artists" (also views[0])`.
func (c Config) Validate() error {
	return errors.Join(validateViews(c.Views), c.Tags.Validate())
}

// Validate checks the `tags:` section; errors name the full key.
func (t Tags) Validate() error {
	var errs []error
	if t.VariousArtists != "" && sanitize(t.VariousArtists, false) != t.VariousArtists {
		errs = append(errs, fmt.Errorf("tags.various_artists: %q is not a valid single path element", t.VariousArtists))
	}
	if len(t.Separator) > maxSeparator || strings.ContainsAny(t.Separator, "/\x00") || !utf8.ValidString(t.Separator) {
		errs = append(errs, fmt.Errorf("tags.separator: %q must be valid UTF-8 of at most %d bytes without '/' or NUL", t.Separator, maxSeparator))
	}
	return errors.Join(errs...)
}

func validateViews(views []View) error {
	var errs []error
	seen := make(map[string]int, len(views))
	for i, v := range views {
		if err := v.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("views[%d].%w", i, err))
			continue
		}
		if j, dup := seen[v.Name]; dup {
			errs = append(errs, fmt.Errorf("views[%d].name: duplicate %q (also views[%d])", i, v.Name, j))
			continue
		}
		seen[v.Name] = i
	}
	return errors.Join(errs...)
}
