// Package helmflags reads a Helm command line the way Helm (cobra and
// pflag) reads it, knowing from data which of Helm's flags take a value.
//
// pvc-guard passes `pvc-guard upgrade|install` arguments to Helm untouched,
// but must know some of them itself (the namespace, the cluster identity,
// --atomic). Whether "-n" in "-in x" takes "x", or whether "prod" after
// "--set" is a value or the chart, depends on each flag's arity, which
// differs between Helm majors (Helm 4's --wait takes an optional value,
// Helm 3's is a boolean). The arities are in helm.txt, generated from the
// real Helm binaries by hack/helmflags; an end-to-end test compares the two.
package helmflags

import (
	_ "embed"
	"fmt"
	"strings"
)

// Arity says how a flag takes its value, in pflag's terms.
type Arity string

const (
	// None is a boolean: --x, --x=false, -x.
	None Arity = "none"
	// Optional takes a value only after "=": --x=v; --x alone means
	// the flag's NoOptDefVal.
	Optional Arity = "optional"
	// Required takes a value: --x=v, --x v, -cv, -c=v, -c v.
	Required Arity = "value"
)

// Flag is one flag of a Helm command.
type Flag struct {
	Name      string // long name, without "--"
	Shorthand string // one letter, or ""
	Arity     Arity
	// NoOptDefVal is the value of an Optional flag given alone.
	NoOptDefVal string
}

//go:embed helm.txt
var table string

// Flags returns the flags of `helm COMMAND` (global ones included) for a
// Helm major ("v3" or "v4"), as helm.txt lists them.
func Flags(major, command string) ([]Flag, error) {
	all, err := Parse(table)
	if err != nil {
		return nil, fmt.Errorf("helmflags: the embedded table: %w", err)
	}
	flags := all[major+" "+command]
	if flags == nil {
		return nil, fmt.Errorf("helmflags: no flags of helm %s %s in the table", major, command)
	}
	return flags, nil
}

// Parse reads the table format: "#" comments, and lines of
// "MAJOR COMMAND SHORTHAND NAME ARITY" with "-" for no shorthand and
// "optional=VALUE" for an optional value. It returns the flags keyed by
// "MAJOR COMMAND".
func Parse(text string) (map[string][]Flag, error) {
	flags := map[string][]Flag{}
	for i, line := range strings.Split(text, "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		if len(fields) != 5 {
			return nil, fmt.Errorf("line %d: want MAJOR COMMAND SHORTHAND NAME ARITY, got %q", i+1, line)
		}
		arity, noOpt, _ := strings.Cut(fields[4], "=")
		f := Flag{Name: fields[3], Shorthand: strings.TrimPrefix(fields[2], "-"), Arity: Arity(arity), NoOptDefVal: noOpt}
		switch f.Arity {
		case None, Optional, Required:
		default:
			return nil, fmt.Errorf("line %d: arity %q is none of %q, %q, %q", i+1, f.Arity, None, Optional, Required)
		}
		key := fields[0] + " " + fields[1]
		flags[key] = append(flags[key], f)
	}
	return flags, nil
}

// Format writes flags in the table format, one line per flag.
func Format(major, command string, flags []Flag) string {
	var b strings.Builder
	for _, f := range flags {
		short := "-"
		if f.Shorthand != "" {
			short = f.Shorthand
		}
		arity := string(f.Arity)
		if f.Arity == Optional {
			arity += "=" + f.NoOptDefVal
		}
		fmt.Fprintf(&b, "%s %s %s %s %s\n", major, command, short, f.Name, arity)
	}
	return b.String()
}

// FromHelp reads the flags a cobra command lists in its --help output
// (sections "Flags:" and "Global Flags:"), as pflag prints them:
//
//	-n, --namespace string          a value
//	    --dry-run string[="client"] an optional value
//	    --atomic                    none
//
// pflag hides deprecated flags from help; Helm's (--atomic and --force in
// Helm 4, --recreate-pods in Helm 3) are all booleans, which is how Scan
// treats a flag it does not know.
func FromHelp(help string) []Flag {
	var flags []Flag
	inFlags := false
	for _, line := range strings.Split(help, "\n") {
		switch {
		case strings.HasSuffix(line, "Flags:") && !strings.HasPrefix(line, " "):
			inFlags = true
			continue
		case line != "" && !strings.HasPrefix(line, " "):
			inFlags = false
		}
		if !inFlags {
			continue
		}
		var short, rest string
		switch {
		case strings.HasPrefix(line, "  -") && len(line) > 7 && line[4:8] == ", --":
			short, rest = line[3:4], line[8:]
		case strings.HasPrefix(line, "      --"):
			rest = line[8:]
		default:
			continue // a continuation of the previous flag's description
		}
		// The name and its type are separated from the description by at
		// least two spaces.
		spec, _, _ := strings.Cut(rest, "  ")
		fields := strings.Fields(spec)
		if len(fields) == 0 {
			continue
		}
		f := Flag{Name: fields[0], Shorthand: short, Arity: None}
		if len(fields) > 1 {
			f.Arity = Required
			if _, noOpt, ok := strings.Cut(fields[1], "[="); ok {
				f.Arity, f.NoOptDefVal = Optional, strings.Trim(strings.TrimSuffix(noOpt, "]"), `"`)
			}
		}
		flags = append(flags, f)
	}
	return flags
}
