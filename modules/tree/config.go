package tree

import (
	"errors"
	"fmt"
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
	// Views are the tag views; empty means DefaultViews.
	Views []View
}

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
	return Config{Views: DefaultViews()}
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

// Validate checks every view and that no two share a name. Errors name the
// full key, e.g. `views[1].name: "Artists" is already used by views[0]`.
func (c Config) Validate() error {
	return ValidateViews(c.Views)
}

// ValidateViews is Config.Validate for a bare list of views.
func ValidateViews(views []View) error {
	seen := make(map[string]int, len(views))
	for i, v := range views {
		if err := v.Validate(); err != nil {
			return fmt.Errorf("views[%d].%w", i, err)
		}
		if j, dup := seen[v.Name]; dup {
			return fmt.Errorf("views[%d].name: %q is already used by views[%d]", i, v.Name, j)
		}
		seen[v.Name] = i
	}
	return nil
}
