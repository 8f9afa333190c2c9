package renderer_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pvc-guard/pvc-guard/renderer"
)

func TestBuiltinRuleSetsLoad(t *testing.T) {
	for _, name := range renderer.BuiltinRuleSets() {
		data, err := renderer.BuiltinRuleSet(name)
		if err != nil {
			t.Fatal(err)
		}
		set, err := renderer.ParseRuleSet("builtin:"+name, data)
		if err != nil {
			t.Fatalf("the embedded rule set %s does not load: %v", name, err)
		}
		if set.Name != name {
			t.Errorf("builtin:%s names itself %q", name, set.Name)
		}
	}
}

const ruleHead = "apiVersion: pvc-guard.io/v1alpha1\nkind: RuleSet\nname: mine\nrules:\n"

const goodRule = `- name: frozen
  resource: {group: example.com, kind: Widget}
  path: spec.size
  policy: immutable
  reason: the operator refuses changes
`

func TestParseRuleSetErrorsNameFileAndEntry(t *testing.T) {
	tests := []struct {
		name, doc, want string
	}{
		{"unknown policy", ruleHead + goodRule + strings.Replace(goodRule, "frozen", "other", 1) +
			"- name: my-rule\n  resource: {kind: Widget}\n  path: spec.x\n  policy: foo\n  reason: r\n",
			`rules.yaml: rule 3 (my-rule): unknown policy "foo"; pvc-guard knows`},
		{"unknown field", ruleHead + strings.Replace(goodRule, "policy:", "polcy:", 1), `rules.yaml: rule 1 (frozen): unknown field "polcy"`},
		{"bad path", ruleHead + strings.Replace(goodRule, "spec.size", "spec..size", 1), `rules.yaml: rule 1 (frozen): path "spec..size": empty key`},
		{"no path", ruleHead + strings.Replace(goodRule, "  path: spec.size\n", "", 1), "rules.yaml: rule 1 (frozen): set either path or paths"},
		{"no kind", ruleHead + strings.Replace(goodRule, "kind: Widget", "kind: \"\"", 1), "rules.yaml: rule 1 (frozen): resource has no kind"},
		{"no reason", ruleHead + strings.Replace(goodRule, "  reason: the operator refuses changes\n", "", 1), "rules.yaml: rule 1 (frozen): no reason"},
		{"no name", ruleHead + strings.Replace(goodRule, "name: frozen", "name: \"\"", 1), "rules.yaml: rule 1: no name"},
		{"name twice", ruleHead + goodRule + goodRule, "rules.yaml: rule 2 (frozen): a rule of this name comes earlier in the set"},
		{"bad scope", ruleHead + goodRule + "  scope: Global\n", `rules.yaml: rule 1 (frozen): scope must be Namespaced or Cluster, not "Global"`},
		{"scopes disagree", ruleHead + goodRule + strings.Replace(goodRule, "frozen", "other", 1) + "  scope: Cluster\n",
			"rules.yaml: rule 2 (other): scope Cluster, but an earlier rule for Widget.example.com says Namespaced"},
		{"bad version", ruleHead + goodRule + "  immutableBefore: soon\n", `rules.yaml: rule 1 (frozen): immutableBefore "soon"`},
		{"membership without a list", ruleHead + strings.Replace(goodRule, "immutable", "fixed-membership", 1),
			"rules.yaml: rule 1 (frozen): path spec.size: policy fixed-membership needs a path that ends with a [field=*] step"},
		{"storage request of another kind", ruleHead + strings.Replace(goodRule, "immutable", "storage-request", 1),
			"rules.yaml: rule 1 (frozen): path spec.size: policy storage-request reads PersistentVolumeClaim fields"},
		{"wrong kind of document", strings.Replace(ruleHead, "RuleSet", "ConfigMap", 1) + goodRule,
			`rules.yaml: want apiVersion: pvc-guard.io/v1alpha1 and kind: RuleSet, found "pvc-guard.io/v1alpha1" and "ConfigMap"`},
		{"no rules", ruleHead, "rules.yaml: the rule set has no rules"},
		{"not YAML", "rules: [", "rules.yaml: yaml: line 1: did not find expected node content"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := renderer.ParseRuleSet("rules.yaml", []byte(tt.doc))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v\nwant an error containing %q", err, tt.want)
			}
		})
	}
	if _, err := renderer.ParseRuleSet("rules.yaml", []byte(ruleHead+goodRule)); err != nil {
		t.Errorf("a good rule set is refused: %v", err)
	}
}

func TestLoadRuleSets(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "widgets.yaml")
	if err := os.WriteFile(file, []byte(ruleHead+goodRule), 0o644); err != nil {
		t.Fatal(err)
	}
	sets, err := renderer.LoadRuleSets([]string{file, "builtin:storage"})
	if err != nil {
		t.Fatal(err)
	}
	if len(sets) != 2 || sets[0].Name != "storage" || sets[1].Name != "mine" {
		t.Errorf("want the default set, then the file's; got %d sets", len(sets))
	}
	clash := filepath.Join(dir, "clash.yaml")
	if err := os.WriteFile(clash, []byte(ruleHead+strings.Replace(goodRule, "frozen", "volume-name", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	for ref, want := range map[string]string{
		clash:                        "clash.yaml: rule 1 (volume-name): the name is taken by a rule of builtin:storage",
		"builtin:nothing":            `no built-in rule set "nothing"; pvc-guard has `,
		filepath.Join(dir, "absent"): "reading rules: open ",
	} {
		if _, err := renderer.LoadRuleSets([]string{ref}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("LoadRuleSets(%s) = %v, want an error containing %q", ref, err, want)
		}
	}
}
