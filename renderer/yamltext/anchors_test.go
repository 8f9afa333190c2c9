package yamltext

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestParseDocumentResolvesAliases(t *testing.T) {
	cases := []struct {
		name    string
		in      string
		want    string // the document decoded, as JSON
		wantErr string
	}{
		{"alias", "a: &x 1\nb: *x\n", `{"a":1,"b":1}`, ""},
		{"merge overrides earlier entries, later entries override it", "a: 1\n<<: {a: 2, b: 2, c: 2}\nc: 3\n", `{"a":2,"b":2,"c":3}`, ""},
		{"earlier merged mapping wins", "<<: [{a: 1}, {a: 2, b: 2}]\n", `{"a":1,"b":2}`, ""},
		{"merge of an alias", "x: &m {a: 1}\ny:\n  <<: *m\n  b: 2\n", `{"x":{"a":1},"y":{"a":1,"b":2}}`, ""},
		{"quoted << is a key", "\"<<\": {a: 1}\n", `{"\u003c\u003c":{"a":1}}`, ""},
		{"key twice", "a: 1\n<<: {b: 2}\na: 3\n", "", `mapping key "a" already defined`},
		{"merge of a scalar", "x: &s 1\n<<: *s\n", "", "takes a mapping"},
		{"aliases expanding too far", laughs(), "", "expand to more than"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			objects, err := DecodeObjects([]byte(tc.in))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got error %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if data, _ := json.Marshal(objects[0]); string(data) != tc.want {
				got := string(data)
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}

// laughs is a document of nested aliases that expands to 10^9 scalars.
func laughs() string {
	var b strings.Builder
	b.WriteString("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < 9; i++ {
		b.WriteString("a" + string(rune('0'+i)) + ": &a" + string(rune('0'+i)) + " [")
		for j := 0; j < 10; j++ {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("*a" + string(rune('0'+i-1)))
		}
		b.WriteString("]\n")
	}
	return b.String()
}
