package yamltext

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// Path is a field's location from an object's root: mapping keys, and steps
// into lists of mappings that pick an item by one of its fields. Its text
// form is kubectl's, with keys that hold dots in brackets and list steps as
// [field=value]:
//
//	spec.volumeClaimTemplates[metadata.name=data].spec.resources.requests.storage
//	metadata.annotations["volume.beta.kubernetes.io/storage-class"]
//
// A rule's path may pick every item with [field=*]; findings always carry a
// concrete path, one per item.
type Path []Step

// Step is one step of a Path: a mapping key, or an item of a list.
type Step struct {
	// Key is the mapping key; empty for a list step.
	Key string
	// ItemKey is, for a list step, the field of each item that names it
	// (metadata.name for volumeClaimTemplates), as nested mapping keys.
	ItemKey []string
	// Item is the value ItemKey must have, or "*" for every item.
	Item string
}

// Wildcard is the list step's Item that picks every item.
const Wildcard = "*"

// IsList reports whether the step picks an item of a list.
func (s Step) IsList() bool { return s.ItemKey != nil }

// ParsePath reads a path in its text form.
func ParsePath(text string) (Path, error) {
	var p Path
	for rest := text; rest != ""; {
		var step Step
		var err error
		switch {
		case strings.HasPrefix(rest, `["`):
			step.Key, rest, err = quotedKey(rest)
		case rest[0] == '[':
			step, rest, err = listStep(rest)
		default:
			end := strings.IndexAny(rest, ".[")
			if end < 0 {
				end = len(rest)
			}
			step.Key, rest = rest[:end], rest[end:]
			if step.Key == "" {
				err = fmt.Errorf("empty key")
			}
		}
		if err != nil {
			return nil, fmt.Errorf("path %q: %w", text, err)
		}
		p = append(p, step)
		if strings.HasPrefix(rest, ".") {
			if rest = rest[1:]; rest == "" {
				return nil, fmt.Errorf("path %q ends with a dot", text)
			}
		} else if rest != "" && rest[0] != '[' {
			return nil, fmt.Errorf("path %q: %q must follow a dot", text, rest)
		}
	}
	if len(p) == 0 {
		return nil, fmt.Errorf("empty path")
	}
	if p[0].IsList() {
		return nil, fmt.Errorf("path %q starts with a list step; an object's root is a mapping", text)
	}
	return p, nil
}

// quotedKey reads ["key"] at the start of rest.
func quotedKey(rest string) (key, after string, err error) {
	key, after, err = quoted(rest[1:])
	if err == nil && !strings.HasPrefix(after, "]") {
		err = fmt.Errorf("%q: a quoted key ends with \"]", rest)
	}
	if err != nil {
		return "", "", err
	}
	return key, after[1:], nil
}

// quoted reads a double-quoted Go string at the start of text.
func quoted(text string) (value, after string, err error) {
	q, err := strconv.QuotedPrefix(text)
	if err != nil {
		return "", "", fmt.Errorf("unterminated or invalid quoted string %s", text)
	}
	value, err = strconv.Unquote(q)
	return value, text[len(q):], err
}

// listStep reads [field=value] at the start of rest.
func listStep(rest string) (Step, string, error) {
	eq := strings.IndexByte(rest, '=')
	if eq < 0 {
		return Step{}, "", fmt.Errorf("%q: a list step is [field=value] or [field=*]", rest)
	}
	field := rest[1:eq]
	var value string
	after := rest[eq+1:]
	if strings.HasPrefix(after, `"`) {
		var err error
		if value, after, err = quoted(after); err != nil {
			return Step{}, "", err
		}
		if !strings.HasPrefix(after, "]") {
			return Step{}, "", fmt.Errorf("unterminated [%s=%q", field, value)
		}
		after = after[1:]
	} else {
		end := strings.IndexByte(after, ']')
		if end < 0 {
			return Step{}, "", fmt.Errorf("unterminated [%s=", field)
		}
		value, after = after[:end], after[end+1:]
	}
	keys := strings.Split(field, ".")
	for _, k := range keys {
		if k == "" {
			return Step{}, "", fmt.Errorf("list step [%s=...] names an empty field", field)
		}
	}
	if value == "" {
		return Step{}, "", fmt.Errorf("list step [%s=] needs a value or *", field)
	}
	return Step{ItemKey: keys, Item: value}, after, nil
}

// String renders the path in its text form; ParsePath reads it back.
func (p Path) String() string {
	var b strings.Builder
	for i, s := range p {
		switch {
		case s.IsList():
			item := s.Item
			if !isPlainItem(item) {
				item = strconv.Quote(item)
			}
			fmt.Fprintf(&b, "[%s=%s]", strings.Join(s.ItemKey, "."), item)
		case !isPlainKey(s.Key):
			fmt.Fprintf(&b, "[%q]", s.Key)
		case i > 0:
			b.WriteString("." + s.Key)
		default:
			b.WriteString(s.Key)
		}
	}
	return b.String()
}

func isPlainKey(key string) bool {
	return key != "" && !strings.ContainsAny(key, `./[]="\ `)
}

func isPlainItem(item string) bool {
	return item != "" && !strings.ContainsAny(item, `[]="\ `)
}

// MarshalText and UnmarshalText make a Path a plain string in rule files.
func (p Path) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

func (p *Path) UnmarshalText(text []byte) error {
	parsed, err := ParsePath(string(text))
	if err != nil {
		return err
	}
	*p = parsed
	return nil
}

// Keys returns the path as mapping keys when it has no list step.
func (p Path) Keys() ([]string, bool) {
	keys := make([]string, len(p))
	for i, s := range p {
		if s.IsList() {
			return nil, false
		}
		keys[i] = s.Key
	}
	return keys, true
}

// Get returns the value at a concrete path in plain Go values, or nil.
func (p Path) Get(v any) any {
	for _, s := range p {
		if v = s.child(v); v == nil {
			return nil
		}
	}
	return v
}

// child steps from v into one key or list item.
func (s Step) child(v any) any {
	if !s.IsList() {
		m, _ := v.(map[string]any)
		return m[s.Key]
	}
	items, _ := v.([]any)
	if i := slices.IndexFunc(items, s.matches); i >= 0 {
		return items[i]
	}
	return nil
}

// matches reports whether a list step picks item.
func (s Step) matches(item any) bool {
	name, ok := itemName(item, s.ItemKey)
	return ok && name == s.Item
}

// itemName is the value of a list item's naming field, when it is a string.
func itemName(item any, key []string) (string, bool) {
	for _, k := range key {
		m, ok := item.(map[string]any)
		if !ok {
			return "", false
		}
		item = m[k]
	}
	name, ok := item.(string)
	return name, ok
}

// MaxObjects is how many objects Resolve reads at once: the chart's, as
// the API server compares it, and the live one.
const MaxObjects = 3

// Found is one concrete path of a rule's path and what each object holds
// there, held in place: resolving a path allocates nothing but its
// wildcards' concrete paths.
type Found struct {
	Path Path
	// Values holds the value at Path in each object, nil where it has none.
	Values [MaxObjects]any
	// Keys says whether each object has the field at all, null included.
	Keys [MaxObjects]bool
	// Partial says that some object lacks a list item the path steps
	// through before its end: there is no field there to compare.
	Partial bool
}

// Resolve appends to out the concrete paths of p over the given objects (at
// most MaxObjects), each with the values the objects hold there, read in
// the same walk: a wildcard step becomes one path per item name found in
// any of them, in the order the objects list them (the first object's items
// first). A path without wildcards resolves to itself.
func (p Path) Resolve(out []Found, objects ...any) []Found {
	var values [MaxObjects]any
	n := copy(values[:], objects)
	if n < len(objects) {
		panic(fmt.Sprintf("yamltext: Resolve reads at most %d objects", MaxObjects))
	}
	r := pathWalk{path: p, n: n, out: out}
	r.resolve(0, nil, values, false)
	return r.out
}

// pathWalk walks one path over n objects.
type pathWalk struct {
	path Path
	n    int
	out  []Found
}

// resolve steps values along the path from step at; prefix is the
// concrete path so far when a wildcard made one, nil while the path itself
// is the concrete one.
func (r *pathWalk) resolve(at int, prefix Path, values [MaxObjects]any, partial bool) {
	p := r.path
	for ; at < len(p); at++ {
		s := p[at]
		if len(prefix) > at {
			s = prefix[at] // the item a wildcard branched to
		}
		if s.IsList() && s.Item == Wildcard {
			if prefix == nil {
				prefix = p[:at]
			}
			for _, name := range itemNames(values[:r.n], s.ItemKey) {
				branch := make(Path, len(prefix), len(p))
				copy(branch, prefix)
				r.resolve(at, append(branch, Step{ItemKey: s.ItemKey, Item: name}), values, partial)
			}
			return
		}
		if prefix != nil && len(prefix) == at {
			prefix = append(prefix, s)
		}
		if at == len(p)-1 {
			f := Found{Path: prefix, Partial: partial}
			if prefix == nil {
				f.Path = p
			}
			for i, v := range values[:r.n] {
				f.Keys[i], f.Values[i] = s.has(v), s.child(v)
			}
			r.out = append(r.out, f)
			return
		}
		for i, v := range values[:r.n] {
			values[i] = s.child(v)
		}
		partial = partial || s.IsList() && slices.Contains(values[:r.n], nil)
	}
}

// has reports whether v holds the step's field at all, null included.
func (s Step) has(v any) bool {
	if s.IsList() {
		return s.child(v) != nil
	}
	m, _ := v.(map[string]any)
	_, found := m[s.Key]
	return found
}

// itemNames lists the distinct item names of the lists among values. Lists
// hold a few items, so a search beats a set.
func itemNames(values []any, key []string) []string {
	var names []string
	for _, v := range values {
		items, _ := v.([]any)
		for _, item := range items {
			if name, ok := itemName(item, key); ok && !slices.Contains(names, name) {
				names = append(names, name)
			}
		}
	}
	return names
}

// childNode steps from a YAML node into one key or list item, or returns nil.
func (s Step) childNode(n *yaml.Node) *yaml.Node {
	if !s.IsList() {
		return MappingValue(n, s.Key)
	}
	if n == nil || n.Kind != yaml.SequenceNode {
		return nil
	}
	if i := slices.IndexFunc(n.Content, s.matchesNode); i >= 0 {
		return n.Content[i]
	}
	return nil
}

// matchesNode reports whether a list step picks the item node.
func (s Step) matchesNode(item *yaml.Node) bool {
	name := nodeAt(item, s.ItemKey)
	return name != nil && name.Kind == yaml.ScalarNode && name.Value == s.Item
}
