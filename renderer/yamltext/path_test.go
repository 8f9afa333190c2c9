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

func TestPathExpandAndGet(t *testing.T) {
	p, err := yamltext.ParsePath("spec.volumeClaimTemplates[metadata.name=*].spec.size")
	if err != nil {
		t.Fatal(err)
	}
	chart, live := templates("data", "logs"), templates("logs", "old")
	var got []string
	for _, concrete := range p.Expand(chart, live) {
		got = append(got, concrete.String()+"="+fmt.Sprint(concrete.Get(live)))
	}
	want := []string{
		`spec.volumeClaimTemplates[metadata.name=data].spec.size=<nil>`,
		`spec.volumeClaimTemplates[metadata.name=logs].spec.size=logs-size`,
		`spec.volumeClaimTemplates[metadata.name=old].spec.size=old-size`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("expanded over chart and live:\n got %q\nwant %q", got, want)
	}
	if n := len(p.Expand(map[string]any{}, nil)); n != 0 {
		t.Errorf("a Wildcard over no items expands to %d paths, want none", n)
	}
	plain, _ := yamltext.ParsePath("spec.volumeName")
	if n := len(plain.Expand(nil, nil)); n != 1 {
		t.Errorf("a path without Wildcard expands to %d paths, want itself", n)
	}
}
