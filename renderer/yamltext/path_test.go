package yamltext_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/pvc-guard/pvc-guard/renderer/yamltext"
)

func TestParsePathRoundTrips(t *testing.T) {
	for _, text := range []string{
		"spec.volumeName",
		`metadata.annotations["volume.beta.kubernetes.io/storage-class"]`,
		"spec.volumeClaimTemplates[metadata.name=*]",
		"spec.volumeClaimTemplates[metadata.name=data].spec.resources.requests.storage",
		`spec.items[name="a b"].value`,
		`spec.items[name=x][name=y]`,
		`a["x]y"].b`,
	} {
		p, err := yamltext.ParsePath(text)
		if err != nil {
			t.Errorf("ParsePath(%q): %v", text, err)
			continue
		}
		if got := p.String(); got != text {
			t.Errorf("ParsePath(%q).String() = %q", text, got)
		}
	}
}

func TestParsePathRejects(t *testing.T) {
	tests := []struct{ text, want string }{
		{"", "empty path"},
		{"spec.", "ends with a dot"},
		{"spec..name", "empty key"},
		{"[name=x]", "starts with a list step"},
		{"spec.items[name]", "a list step is [field=value]"},
		{"spec.items[name=", "unterminated"},
		{"spec.items[=x]", "names an empty field"},
		{"spec.items[name=]", "needs a value or *"},
		{`spec["a.b`, "unterminated"},
		{"spec[name=x]y", `"y" must follow a dot`},
	}
	for _, tt := range tests {
		_, err := yamltext.ParsePath(tt.text)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParsePath(%q) = %v, want an error containing %q", tt.text, err, tt.want)
		}
	}
}

func templates(names ...string) map[string]any {
	var items []any
	for _, n := range names {
		items = append(items, map[string]any{"metadata": map[string]any{"name": n}, "spec": map[string]any{"size": n + "-size"}})
	}
	return map[string]any{"spec": map[string]any{"volumeClaimTemplates": items}}
}

func TestPathResolve(t *testing.T) {
	p, err := yamltext.ParsePath("spec.volumeClaimTemplates[metadata.name=*].spec.size")
	if err != nil {
		t.Fatal(err)
	}
	chart, live := templates("data", "logs"), templates("logs", "old")
	var got []string
	for _, f := range p.Resolve(nil, chart, live) {
		got = append(got, fmt.Sprintf("%s=%v %v", f.Path, f.Values[1], f.Keys[:2]))
		if f.Values[1] != f.Path.Get(live) || f.Values[0] != f.Path.Get(chart) {
			t.Errorf("%s: resolved %v, Get reads %v and %v", f.Path, f.Values, f.Path.Get(chart), f.Path.Get(live))
		}
	}
	want := []string{
		`spec.volumeClaimTemplates[metadata.name=data].spec.size=<nil> [true false]`,
		`spec.volumeClaimTemplates[metadata.name=logs].spec.size=logs-size [true true]`,
		`spec.volumeClaimTemplates[metadata.name=old].spec.size=old-size [false true]`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("resolved over chart and live:\n got %q\nwant %q", got, want)
	}
	if n := len(p.Resolve(nil, map[string]any{}, nil)); n != 0 {
		t.Errorf("a Wildcard over no items resolves to %d paths, want none", n)
	}
	plain, _ := yamltext.ParsePath("spec.volumeName")
	if n := len(plain.Resolve(nil, nil, nil)); n != 1 {
		t.Errorf("a path without Wildcard resolves to %d paths, want itself", n)
	}
}

func TestPathResolvePartialAndKeys(t *testing.T) {
	tests := []struct {
		path        string
		chart, live any
		partial     bool
		keys        []bool
	}{
		{"spec.volumeClaimTemplates[metadata.name=*].spec.size", templates("data"), templates("old"), true, []bool{true, false}},
		{"spec.volumeClaimTemplates[metadata.name=*]", templates("data"), templates("old"), false, []bool{true, false}},
		{"spec.volumeClaimTemplates[metadata.name=data].spec.size", templates("data"), map[string]any{}, true, []bool{true, false}},
		{"spec.volumeName", map[string]any{"spec": map[string]any{"volumeName": nil}}, map[string]any{}, false, []bool{true, false}},
	}
	for _, tt := range tests {
		p, err := yamltext.ParsePath(tt.path)
		if err != nil {
			t.Fatal(err)
		}
		found := p.Resolve(nil, tt.chart, tt.live)
		if len(found) == 0 {
			t.Fatalf("%s: nothing resolved", tt.path)
		}
		if f := found[0]; f.Partial != tt.partial || !reflect.DeepEqual(f.Keys[:2], tt.keys) {
			t.Errorf("%s: %s partial %v keys %v, want %v and %v", tt.path, f.Path, f.Partial, f.Keys, tt.partial, tt.keys)
		}
	}
}
