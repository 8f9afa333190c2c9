package helmflags

import (
	"reflect"
	"testing"
)

// help is --help output in pflag's layout, with each form FromHelp must
// read, and text outside the flag sections that looks like flags.
const help = `Usage:
  helm upgrade [RELEASE] [CHART] [flags]

Examples:
      --set foo=bar     (an example, not a flag)

Flags:
      --atomic                       if set, roll back
      --dry-run string[="client"]    simulate an install
  -h, --help                         help for upgrade
  -i, --install                      run an install
      --set stringArray              set values
  -f, --values strings               specify values in a YAML file
      --wait WaitStrategy[="watcher"]  wait until resources are ready.
                                     Use '--wait' alone for 'watcher'
      --post-renderer postRendererString   the path to an executable

Global Flags:
  -n, --namespace string   namespace scope for this request
      --kube-insecure-skip-tls-verify   if true, do not check

Use "helm [command] --help" for more information about a command.
`

func TestFromHelp(t *testing.T) {
	want := []Flag{
		{Name: "atomic", Arity: None},
		{Name: "dry-run", Arity: Optional, NoOptDefVal: "client"},
		{Name: "help", Shorthand: "h", Arity: None},
		{Name: "install", Shorthand: "i", Arity: None},
		{Name: "set", Arity: Required},
		{Name: "values", Shorthand: "f", Arity: Required},
		{Name: "wait", Arity: Optional, NoOptDefVal: "watcher"},
		{Name: "post-renderer", Arity: Required},
		{Name: "namespace", Shorthand: "n", Arity: Required},
		{Name: "kube-insecure-skip-tls-verify", Arity: None},
	}
	if got := FromHelp(help); !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}

// TestTableRoundTrip: Format and Parse are inverses, and the embedded
// table has both commands of both majors.
func TestTableRoundTrip(t *testing.T) {
	flags := FromHelp(help)
	parsed, err := Parse(Format("v4", "upgrade", flags))
	if err != nil {
		t.Fatal(err)
	}
	if got := parsed["v4 upgrade"]; !reflect.DeepEqual(got, flags) {
		t.Errorf("round trip:\n%+v\nwant\n%+v", got, flags)
	}
	for _, major := range []string{"v3", "v4"} {
		for _, command := range []string{"upgrade", "install"} {
			if _, err := Flags(major, command); err != nil {
				t.Error(err)
			}
		}
	}
	if _, err := Parse("v4 upgrade - wait sometimes"); err == nil {
		t.Error("Parse accepted an unknown arity")
	}
}
