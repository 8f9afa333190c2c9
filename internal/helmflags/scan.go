package helmflags

import "strings"

// Arg is one thing pflag reads from a command line: a flag with its value,
// or a positional argument (Name "").
type Arg struct {
	Name  string // the flag's long name; "" for a positional argument
	Value string // the flag's value (for one given alone: "true", or its NoOptDefVal), or the argument
	// Explicit is whether the command line gave the value (--x=v, --x v,
	// -xv), rather than pflag's default for a flag given alone.
	Explicit bool
	// Words are the indexes of the command-line words this took. A flag
	// inside combined shorthands (-in x) shares its word with the others.
	First, Last int
}

// Scanner reads command lines against a set of flags.
type Scanner struct {
	long  map[string]Flag
	short map[string]Flag
}

// NewScanner knows flags; any other flag is read as a boolean, as Helm's
// hidden deprecated flags are (Helm itself refuses an unknown one).
func NewScanner(flags ...[]Flag) *Scanner {
	s := &Scanner{long: map[string]Flag{}, short: map[string]Flag{}}
	for _, set := range flags {
		for _, f := range set {
			s.long[f.Name] = f
			if f.Shorthand != "" {
				s.short[f.Shorthand] = f
			}
		}
	}
	return s
}

// Scan reads args as pflag does with interspersed flags: flags anywhere,
// "--" ends them, "-" alone is positional.
func (s *Scanner) Scan(args []string) []Arg {
	var out []Arg
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			for j := i + 1; j < len(args); j++ {
				out = append(out, Arg{Value: args[j], Explicit: true, First: j, Last: j})
			}
			return out
		case len(a) < 2 || a[0] != '-':
			out = append(out, Arg{Value: a, Explicit: true, First: i, Last: i})
		case a[1] == '-':
			arg, last := s.long1(args, i)
			out, i = append(out, arg), last
		default:
			var shorts []Arg
			shorts, i = s.shorts(args, i)
			out = append(out, shorts...)
		}
	}
	return out
}

// long1 reads --name, --name=value or --name value at args[i].
func (s *Scanner) long1(args []string, i int) (Arg, int) {
	name, value, inline := strings.Cut(args[i][2:], "=")
	f, known := s.long[name]
	if !known {
		f = Flag{Name: name, Arity: None}
	}
	arg := Arg{Name: f.Name, First: i, Last: i}
	switch {
	case inline:
		arg.Value, arg.Explicit = value, true
	case f.Arity == Required && i+1 < len(args):
		arg.Value, arg.Explicit, arg.Last = args[i+1], true, i+1
	case f.Arity == Required:
		// Helm fails with "flag needs an argument" and says so itself.
	default:
		arg.Value = f.alone()
	}
	return arg, arg.Last
}

// shorts reads combined shorthands at args[i]: -ab, -nvalue, -n=value,
// -n value.
func (s *Scanner) shorts(args []string, i int) ([]Arg, int) {
	var out []Arg
	last := i
	rest := args[i][1:]
	for rest != "" {
		f, known := s.short[rest[:1]]
		if !known {
			return out, last // Helm fails with "unknown shorthand flag"
		}
		arg := Arg{Name: f.Name, First: i, Last: i}
		switch {
		case len(rest) > 2 && rest[1] == '=':
			arg.Value, arg.Explicit, rest = rest[2:], true, ""
		case f.Arity != Required:
			arg.Value, rest = f.alone(), rest[1:]
		case len(rest) > 1:
			arg.Value, arg.Explicit, rest = rest[1:], true, ""
		case i+1 < len(args):
			arg.Value, arg.Explicit, arg.Last, rest = args[i+1], true, i+1, ""
			last = i + 1
		default:
			rest = ""
		}
		out = append(out, arg)
	}
	return out, last
}

// alone is the value of a flag given without one.
func (f Flag) alone() string {
	if f.Arity == Optional {
		return f.NoOptDefVal
	}
	return "true"
}
