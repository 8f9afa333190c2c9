package renderer

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
)

// readmeSection returns the README's lines from the heading to the next
// heading of the same or a higher level.
func readmeSection(t *testing.T, heading string) []string {
	t.Helper()
	data, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	start := slices.Index(lines, heading)
	if start < 0 {
		t.Fatalf("README.md has no %q", heading)
	}
	level := strings.Index(heading, " ")
	for i, line := range lines[start+1:] {
		if n := strings.Index(line, " "); n > 0 && n <= level && strings.Trim(line[:n], "#") == "" {
			return lines[start : start+1+i]
		}
	}
	return lines[start:]
}

// tableRows returns the body rows of the markdown tables in lines whose
// header starts with header.
func tableRows(lines []string, header string) []string {
	var rows []string
	in := false
	for _, line := range lines {
		switch {
		case strings.HasPrefix(line, header):
			in = true
		case in && strings.HasPrefix(line, "|---"):
		case in && strings.HasPrefix(line, "|"):
			rows = append(rows, line)
		default:
			in = false
		}
	}
	return rows
}

// TestReadmeRuleTables holds the README's rule and policy tables to the
// data: the default rule set, the opt-in sets and the policy table.
func TestReadmeRuleTables(t *testing.T) {
	section := readmeSection(t, "## What it preserves")
	var want []string
	for _, name := range BuiltinRuleSets() {
		data, err := BuiltinRuleSet(name)
		if err != nil {
			t.Fatal(err)
		}
		set, err := ParseRuleSet(name, data)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range set.Rules {
			want = append(want, fmt.Sprintf("| `%s` | %s | `%s` | %s |", r.Name, r.Resource.Kind, strings.ReplaceAll(r.FieldPaths(), ", ", "`, `"), r.Policy))
		}
	}
	// The last column says in words what the rule's value means by "not
	// set"; the others are the data.
	var got []string
	for _, row := range tableRows(section, "| rule | kind | field | policy | not set |") {
		cells := strings.Split(row, " | ")
		if len(cells) < 5 || strings.TrimSuffix(cells[len(cells)-1], " |") == "" {
			t.Errorf("README rule row %q says nothing under \"not set\"", row)
			continue
		}
		got = append(got, strings.Join(cells[:len(cells)-1], " | ")+" |")
	}
	if !slices.Equal(got, want) {
		t.Errorf("the README's rule tables differ from the rule sets; want these rows, in this order (then what not set means):\n%s", strings.Join(want, "\n"))
	}
	want = nil
	for _, name := range policyNames() {
		want = append(want, fmt.Sprintf("| %s | %s |", name, policies[Policy(name)].doc))
	}
	if got := tableRows(section, "| policy | what it does |"); !slices.Equal(got, want) {
		t.Errorf("the README's policy table differs from the policies; want:\n%s", strings.Join(want, "\n"))
	}
}
