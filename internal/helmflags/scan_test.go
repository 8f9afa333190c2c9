package helmflags

import (
	"reflect"
	"strings"
	"testing"
)

// testFlags are a few of Helm 4's upgrade flags, one of each arity.
var testFlags = []Flag{
	{Name: "namespace", Shorthand: "n", Arity: Required},
	{Name: "values", Shorthand: "f", Arity: Required},
	{Name: "set", Arity: Required},
	{Name: "install", Shorthand: "i", Arity: None},
	{Name: "atomic", Arity: None},
	{Name: "wait", Arity: Optional, NoOptDefVal: "watcher"},
}

// flagsOf renders a scan as "name=value" for flags (with "!" when the value
// was defaulted) and the bare word for positional arguments.
func flagsOf(args []Arg) string {
	var out []string
	for _, a := range args {
		switch {
		case a.Name == "":
			out = append(out, a.Value)
		case a.Explicit:
			out = append(out, a.Name+"="+a.Value)
		default:
			out = append(out, a.Name+"!"+a.Value)
		}
	}
	return strings.Join(out, " ")
}

func TestScan(t *testing.T) {
	tests := []struct {
		name string
		args string
		want string
	}{
		{"separate value", "app chart -n target", "app chart namespace=target"},
		{"inline long value", "--namespace=target app chart", "namespace=target app chart"},
		{"attached shorthand value", "-ntarget app", "namespace=target app"},
		{"shorthand with =", "-n=target app", "namespace=target app"},
		{"combined shorthands, the last takes the next word", "-in target app", "install!true namespace=target app"},
		{"combined shorthands, the value attached", "-intarget app", "install!true namespace=target app"},
		{"a value that looks like a flag is still the value", "--set -n app", "set=-n app"},
		{"a value that looks like a chart is the value", "app --set x=1 chart", "app set=x=1 chart"},
		{"-f takes a value", "app chart -f values.yaml", "app chart values=values.yaml"},
		{"a boolean takes no value", "--atomic app chart", "atomic!true app chart"},
		{"a boolean with =", "--atomic=false app", "atomic=false app"},
		{"an optional value never takes the next word", "--wait app chart", "wait!watcher app chart"},
		{"an optional value after =", "--wait=legacy app", "wait=legacy app"},
		{"-- ends the flags", "app -- -n chart", "app -n chart"},
		{"- alone is positional", "app - -n x", "app - namespace=x"},
		{"an unknown flag is a boolean", "--recreate-pods app chart", "recreate-pods!true app chart"},
		{"an unknown flag with =", "--color=never app", "color=never app"},
		{"a missing value (Helm refuses it)", "app -n", "app namespace!"},
	}
	s := NewScanner(testFlags)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := flagsOf(s.Scan(strings.Fields(tt.args))); got != tt.want {
				t.Errorf("Scan(%q) = %q, want %q", tt.args, got, tt.want)
			}
		})
	}
}

func TestScanWords(t *testing.T) {
	args := strings.Fields("-in target app --atomic chart --set=a=b")
	got := NewScanner(testFlags).Scan(args)
	want := []Arg{
		{Name: "install", Value: "true", First: 0, Last: 0},
		{Name: "namespace", Value: "target", Explicit: true, First: 0, Last: 1},
		{Value: "app", Explicit: true, First: 2, Last: 2},
		{Name: "atomic", Value: "true", First: 3, Last: 3},
		{Value: "chart", Explicit: true, First: 4, Last: 4},
		{Name: "set", Value: "a=b", Explicit: true, First: 5, Last: 5},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}
