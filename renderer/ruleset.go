package renderer

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"

	"k8s.io/apimachinery/pkg/util/version"
	"sigs.k8s.io/yaml"
)

// RuleSet is one document of rules: an embedded set (storage, the default,
// or an opt-in one such as workloads) or a user's --rules file, all in the
// format `pvc-guard rules -o yaml` prints.
type RuleSet struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Name       string `json:"name"`
	// MinKubeVersion is the oldest API server whose validation the rules
	// were checked against; older servers may refuse more.
	MinKubeVersion string `json:"minKubeVersion,omitempty"`
	Rules          []Rule `json:"rules"`

	document []byte // as written, comments included
}

// Document returns the rule set as its file or the embedded set wrote it.
func (s *RuleSet) Document() []byte { return s.document }

// RuleSetAPIVersion and RuleSetKind identify a rule set document.
const (
	RuleSetAPIVersion = "pvc-guard.io/v1alpha1"
	RuleSetKind       = "RuleSet"
)

// BuiltinPrefix names an embedded rule set where a file name is expected:
// builtin:workloads.
const BuiltinPrefix = "builtin:"

//go:embed rulesets/*.yaml
var builtinSets embed.FS

// DefaultRuleSet is the name of the rule set every render applies.
const DefaultRuleSet = "storage"

// DefaultRuleSets returns the rule sets a Renderer applies when its Rules
// are nil: the default set alone, read once.
func DefaultRuleSets() []*RuleSet { return defaultRuleSets() }

var defaultRuleSets = sync.OnceValue(func() []*RuleSet {
	sets, err := LoadRuleSets(nil)
	if err != nil {
		panic("the embedded default rule set does not load: " + err.Error()) // TestBuiltinRuleSetsLoad
	}
	return sets
})

// BuiltinRuleSet returns the text of an embedded rule set, as shipped.
func BuiltinRuleSet(name string) ([]byte, error) {
	data, err := builtinSets.ReadFile("rulesets/" + name + ".yaml")
	if err != nil {
		return nil, fmt.Errorf("no built-in rule set %q; pvc-guard has %s", name, strings.Join(BuiltinRuleSets(), ", "))
	}
	return data, nil
}

// BuiltinRuleSets lists the names of the embedded rule sets.
func BuiltinRuleSets() []string {
	entries, _ := builtinSets.ReadDir("rulesets") // embedded: cannot fail
	names := make([]string, len(entries))
	for i, e := range entries {
		names[i] = strings.TrimSuffix(e.Name(), ".yaml")
	}
	return names
}

// LoadRuleSets reads rule sets: "builtin:NAME" names an embedded set, any
// other reference a file. The default set comes first unless refs names it.
func LoadRuleSets(refs []string) ([]*RuleSet, error) {
	sets := []*RuleSet{}
	names := map[string]string{} // rule name -> where it was defined
	load := func(ref string) error {
		source, data, err := readRuleSet(ref)
		if err != nil {
			return err
		}
		set, err := ParseRuleSet(source, data)
		if err != nil {
			return err
		}
		for i, r := range set.Rules {
			if first, twice := names[r.Name]; twice {
				return fmt.Errorf("%s: rule %d (%s): the name is taken by a rule of %s", source, i+1, r.Name, first)
			}
			names[r.Name] = source
		}
		sets = append(sets, set)
		return nil
	}
	if err := load(BuiltinPrefix + DefaultRuleSet); err != nil {
		return nil, err
	}
	for _, ref := range refs {
		if ref == BuiltinPrefix+DefaultRuleSet {
			continue
		}
		if err := load(ref); err != nil {
			return nil, err
		}
	}
	return sets, nil
}

func readRuleSet(ref string) (source string, data []byte, err error) {
	if name, ok := strings.CutPrefix(ref, BuiltinPrefix); ok {
		data, err = BuiltinRuleSet(name)
		return ref, data, err
	}
	data, err = os.ReadFile(ref)
	if err != nil {
		return ref, nil, fmt.Errorf("reading rules: %w", err)
	}
	return ref, data, nil
}

// ParseRuleSet reads one rule set document; source names it in errors,
// which also name the rule by position and name.
func ParseRuleSet(source string, data []byte) (*RuleSet, error) {
	var doc struct {
		RuleSet
		Rules []json.RawMessage `json:"rules"`
	}
	if err := strictYAML(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	set := doc.RuleSet
	set.document = data
	switch {
	case set.APIVersion != RuleSetAPIVersion || set.Kind != RuleSetKind:
		return nil, fmt.Errorf("%s: want apiVersion: %s and kind: %s, found %q and %q", source, RuleSetAPIVersion, RuleSetKind, set.APIVersion, set.Kind)
	case set.Name == "":
		return nil, fmt.Errorf("%s: the rule set has no name", source)
	case len(doc.Rules) == 0:
		return nil, fmt.Errorf("%s: the rule set has no rules", source)
	}
	if set.MinKubeVersion != "" {
		if _, err := version.ParseGeneric(set.MinKubeVersion); err != nil {
			return nil, fmt.Errorf("%s: minKubeVersion %q: %w", source, set.MinKubeVersion, err)
		}
	}
	seen := map[string]bool{}
	scopes := map[GroupKind]Scope{}
	for i, raw := range doc.Rules {
		var r Rule
		err := strictJSON(raw, &r)
		if err == nil {
			err = r.validate()
		}
		if err == nil && seen[r.Name] {
			err = fmt.Errorf("a rule of this name comes earlier in the set")
		}
		if scope, ok := scopes[r.Resource]; err == nil && ok && scope != r.scope() {
			err = fmt.Errorf("scope %s, but an earlier rule for %s says %s", r.scope(), r.Resource, scope)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: rule %d%s: %w", source, i+1, nameOf(raw), err)
		}
		seen[r.Name] = true
		scopes[r.Resource] = r.scope()
		set.Rules = append(set.Rules, r)
	}
	return &set, nil
}

// nameOf is " (NAME)" of a rule that has a name, for errors about it.
func nameOf(raw json.RawMessage) string {
	var named struct {
		Name string `json:"name"`
	}
	if json.Unmarshal(raw, &named) != nil || named.Name == "" {
		return ""
	}
	return " (" + named.Name + ")"
}

// strictYAML decodes YAML into v, refusing fields v does not have.
func strictYAML(data []byte, v any) error {
	js, err := yaml.YAMLToJSON(data)
	if err != nil {
		return err
	}
	return strictJSON(js, v)
}

func strictJSON(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%s", strings.TrimPrefix(err.Error(), "json: "))
	}
	return nil
}

// FindRule returns the rule of that name in sets, or nil.
func FindRule(sets []*RuleSet, name string) *Rule {
	for _, set := range sets {
		for i := range set.Rules {
			if set.Rules[i].Name == name {
				return &set.Rules[i]
			}
		}
	}
	return nil
}
