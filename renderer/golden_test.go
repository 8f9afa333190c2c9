package renderer_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/pvc-guard/pvc-guard/internal/testutil/golden"
	"github.com/pvc-guard/pvc-guard/renderer"
)

// TestGolden runs each directory under testdata/render:
//
//	input.yaml    the rendered stream Helm hands the post-renderer
//	live.yaml     what the cluster holds (absent: no claim exists)
//	options.yaml  renderer options: namespace, onConflict, rules (files of
//	              the case or builtin:NAME), kubeVersion (optional)
//	output.yaml   the expected stream, or
//	error.txt     the expected error (and then no output at all)
//	report.json   the expected report, when the run makes one
//
// Any other file, or an expected output the run does not produce, fails
// the case (-update removes it).
func TestGolden(t *testing.T) {
	golden.Run(t, "../testdata/render/*", runGolden)
}

func runGolden(t *testing.T, c *golden.Case) {
	input := c.Read("input.yaml")
	opts := c.Options(golden.Options{})
	var out []byte
	var report *renderer.Report
	rules, err := c.RuleSets(opts)
	if err == nil {
		r := &renderer.Renderer{Live: c.Snapshot(), Namespace: opts.Namespace, OnConflict: renderer.ConflictPolicy(opts.OnConflict),
			Rules: rules, KubeVersion: opts.KubeVersion}
		out, report, err = r.Render(context.Background(), input)
	}

	if err != nil {
		if out != nil {
			t.Errorf("an error must come with no output, got %d bytes", len(out))
		}
		c.Compare("error.txt", []byte(err.Error()+"\n"))
	} else {
		c.Compare("output.yaml", out)
	}
	if report != nil {
		data, err := json.MarshalIndent(report, "", "  ")
		if err != nil {
			t.Fatalf("encoding the report: %v", err)
		}
		c.Compare("report.json", append(data, '\n'))
	}
}

// TestEveryBuiltinRuleHasAGoldenCase holds the house rule that each shipped
// rule is shown at work by at least one case under testdata/render: a rule
// whose name no case's report carries has never been seen to fire.
func TestEveryBuiltinRuleHasAGoldenCase(t *testing.T) {
	reports, err := filepath.Glob("../testdata/render/*/report.json")
	if err != nil || len(reports) == 0 {
		t.Fatalf("no golden reports: %v", err)
	}
	seen := map[string]bool{}
	for _, path := range reports {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var report struct{ Rewrites, Conflicts []struct{ Rule string } }
		if err := json.Unmarshal(data, &report); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		for _, f := range append(report.Rewrites, report.Conflicts...) {
			seen[f.Rule] = true
		}
	}
	var refs []string
	for _, name := range renderer.BuiltinRuleSets() {
		refs = append(refs, "builtin:"+name)
	}
	sets, err := renderer.LoadRuleSets(refs)
	if err != nil {
		t.Fatal(err)
	}
	for _, set := range sets {
		for _, rule := range set.Rules {
			if !seen[rule.Name] {
				t.Errorf("rule %s (builtin:%s) fires in no case under testdata/render", rule.Name, set.Name)
			}
		}
	}
}
