package yamltext

import "sigs.k8s.io/kustomize/kyaml/yaml"

// Reach is the part of an object a reader needs: mapping keys, each with
// the part of its value needed, where nil means all of it. A sequence's
// items are reached as the sequence is; a one-line flow collection is read
// whole. The fast parser builds nodes only within the reach (ParseReach): a
// StatefulSet's rules read a few fields, not its pod template.
type Reach struct {
	keys map[string]*Reach
}

// ReachOf returns the reach of the given paths: each path's keys down to
// its first list step or its end, everything below that.
func ReachOf(paths []Path) *Reach {
	r := &Reach{keys: map[string]*Reach{}}
	for _, p := range paths {
		r.add(p)
	}
	return r
}

func (r *Reach) add(p Path) {
	at := r
	for i, s := range p {
		if s.IsList() {
			return // a list step keeps its whole list (add stopped one key above)
		}
		child, seen := at.keys[s.Key]
		switch {
		case seen && child == nil:
			return // already all of it
		case i == len(p)-1 || p[i+1].IsList():
			at.keys[s.Key] = nil
			return
		case !seen:
			child = &Reach{keys: map[string]*Reach{}}
			at.keys[s.Key] = child
		}
		at = child
	}
}

// Recurse makes the value of key reached as the whole reach is: the items
// of a List are objects like the document itself.
func (r *Reach) Recurse(key string) { r.keys[key] = r }

// child returns the reach of key's value, and false when the key's value
// is outside the reach.
func (r *Reach) child(key string) (*Reach, bool) {
	if r == nil {
		return nil, true
	}
	child, ok := r.keys[key]
	return child, ok
}

// unreached stands for every value outside the reach in a tree that
// ParseReach built; Decode leaves such entries out.
var unreached = &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}
