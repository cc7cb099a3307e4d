package cli

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// TestFluxCommandTree walks every command path of Flux's CLI: each exists,
// and each is either a real command or a stub that fails with exactly the
// not-built message, given --help or nothing; nothing prints its help and
// exits 0 instead of doing its job.
func TestFluxCommandTree(t *testing.T) {
	paths := FluxCommandPaths()
	if len(paths) < 140 {
		t.Fatalf("the fixture lists %d command paths, want Flux's ~143", len(paths))
	}
	seen := map[string]bool{}
	stubs := 0
	for _, path := range paths {
		if seen[path] {
			t.Errorf("%q is listed twice in testdata/flux-commands.txt", path)
		}
		seen[path] = true
		words := strings.Fields(path)
		cmd, rest, err := newOfflineFlux(t).root.Find(words)
		if err != nil || len(rest) > 0 || cmd.CommandPath() != "flux "+path {
			t.Errorf("flux %s: not in the tree (found %q, rest %v, err %v)", path, cmd.CommandPath(), rest, err)
			continue
		}
		if IsNotBuilt(cmd) {
			stubs++
			checkStub(t, path)
			continue
		}
		if !cmd.Runnable() || cmd.HasSubCommands() {
			t.Errorf("flux %s: a real command path must be a runnable leaf", path)
			continue
		}
		o := newOfflineFlux(t)
		if err := o.run(append(words, "--help")...); err != nil || !strings.Contains(o.out.String(), "Usage:\n  "+cmd.UseLine()) {
			t.Errorf("flux %s --help: want its usage and success, got err %v and\n%.300s", path, err, o.out.String())
		}
		o = newOfflineFlux(t)
		err = o.run(words...)
		if err == nil && strings.Contains(o.out.String()+o.errOut.String(), "Usage:\n") {
			t.Errorf("flux %s without arguments printed its help and exited 0:\n%.300s", path, o.out.String())
		}
		if err != nil && strings.Contains(err.Error(), "not built yet") {
			t.Errorf("flux %s is real but says %v", path, err)
		}
	}
	t.Logf("%d command paths, %d of them not built yet", len(paths), stubs)
	if stubs == len(paths) {
		t.Errorf("%d of %d paths are stubs: the walk cannot tell real commands from stubs", stubs, len(paths))
	}
	// Every path may be built; the walk must still tell a stub when it
	// meets one.
	if stub := newNotBuiltCommand("get sources external"); !IsNotBuilt(stub) {
		t.Errorf("a stub is not told from a real command")
	}
}

// checkStub runs a stub with --help, with nothing and with flags Flux would
// take: each time the not-built message, a failure, nothing on stdout; its
// help (flux help PATH) says the same.
func checkStub(t *testing.T, path string) {
	t.Helper()
	want := notBuiltMessage(path)
	words := strings.Fields(path)
	for _, args := range [][]string{{"--help"}, {}, {"my-name", "--namespace", "apps", "--interval=1m", "-A"}} {
		o := newOfflineFlux(t)
		err := o.run(append(append([]string{}, words...), args...)...)
		if err == nil || err.Error() != want {
			t.Errorf("flux %s %s: want the error %q, got %v", path, strings.Join(args, " "), want, err)
		}
		if o.out.Len() > 0 {
			t.Errorf("flux %s %s printed %q", path, strings.Join(args, " "), o.out.String())
		}
	}
	o := newOfflineFlux(t)
	if err := o.run(append([]string{"help"}, words...)...); err != nil || !strings.Contains(o.out.String(), want) {
		t.Errorf("flux help %s: want a help saying %q, got %v\n%s", path, want, err, o.out.String())
	}
}

// TestNotBuiltStubsGiveWayToRealCommands: a path with a real command keeps
// it; the missing ones around it are stubs, with the groups they need.
func TestNotBuiltStubsGiveWayToRealCommands(t *testing.T) {
	real := &cobra.Command{Use: "bucket", RunE: func(*cobra.Command, []string) error { return nil }}
	source := &cobra.Command{Use: "source"}
	source.AddCommand(real)
	create := &cobra.Command{Use: "create"}
	create.AddCommand(source)
	root := &cobra.Command{Use: "flux"}
	root.AddCommand(create)
	addNotBuiltStubs(root)

	for path, wantStub := range map[string]bool{
		"create source bucket": false, "create source oci": true,
		"debug helmrelease": true, "get images policy": true,
	} {
		cmd, rest, err := root.Find(strings.Fields(path))
		if err != nil || len(rest) > 0 || cmd.CommandPath() != "flux "+path {
			t.Fatalf("%s: not found (%v, %v)", path, rest, err)
		}
		if IsNotBuilt(cmd) != wantStub {
			t.Errorf("%s: stub %v, want %v", path, IsNotBuilt(cmd), wantStub)
		}
	}
	if c, _, _ := root.Find([]string{"create", "source", "bucket"}); c != real {
		t.Error("the real create source bucket was replaced")
	}
}

// TestUnknownSubcommands: a group given a subcommand it does not have fails
// with cobra's suggestion; given nothing it prints its help and succeeds,
// as Flux's groups do; a misspelt flag is named with its command.
func TestUnknownSubcommands(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		wantErr []string
	}{
		{[]string{"get", "helmreleasez"}, []string{`unknown command "helmreleasez" for "flux get"`, `did you mean "helmreleases"?`}},
		{[]string{"create", "sourc", "git"}, []string{`unknown command "sourc" for "flux create"`, `did you mean "source"?`}},
		{[]string{"get", "sources", "gti", "-A"}, []string{`unknown command "gti" for "flux get sources"`, `did you mean "git"`}},
		{[]string{"reconcile", "zzz"}, []string{`unknown command "zzz" for "flux reconcile"`, `use one of`, `"kustomization"`}},
		{[]string{"helmreleasez"}, []string{`unknown command "helmreleasez" for "flux"`}},
		{[]string{"get", "kustomizations", "--colour"}, []string{"flux get kustomizations: unknown flag: --colour"}},
		{[]string{"--colour", "get", "all"}, []string{"unknown flag: --colour"}},
		{[]string{"get", "kustomizations", "--namspace", "x"}, []string{"unknown flag: --namspace: did you mean --namespace?"}},
		{[]string{"get", "kustomizations", "--all-namespace"}, []string{"did you mean --all-namespaces?"}},
		{[]string{"create", "source", "git", "x", "--brnch", "main"}, []string{"did you mean --branch?"}},
		{[]string{"get", "all", "-Z"}, []string{"unknown shorthand flag: 'Z' in -Z"}},
	} {
		o := newOfflineFlux(t)
		err := o.run(tc.args...)
		if err == nil {
			t.Errorf("flux %s: want an error, got success:\n%.200s", strings.Join(tc.args, " "), o.out.String())
			continue
		}
		for _, w := range tc.wantErr {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("flux %s: error %q lacks %q", strings.Join(tc.args, " "), err, w)
			}
		}
		if strings.Contains(o.out.String(), "Usage:") {
			t.Errorf("flux %s printed its usage:\n%.200s", strings.Join(tc.args, " "), o.out.String())
		}
	}
	for _, group := range [][]string{{}, {"get"}, {"create", "source"}, {"debug"}} {
		o := newOfflineFlux(t)
		if err := o.run(group...); err != nil || !strings.Contains(o.out.String(), "Available Commands:") {
			t.Errorf("flux %s: want its help and success, got %v\n%.200s", strings.Join(group, " "), err, o.out.String())
		}
	}
}

// The README's table of the command line, between these markers, is
// generated from the fixture and the tree.
const (
	readmeTableBegin = "<!-- flux-commands:begin (generated by go test ./internal/cli -run TestREADMECommandTable -update) -->"
	readmeTableEnd   = "<!-- flux-commands:end -->"
)

// commandTable is the README's table: one row per path, built or not.
func commandTable(t *testing.T) string {
	root := newOfflineFlux(t).root
	var b strings.Builder
	b.WriteString("| Command | Driftless |\n|---|---|\n")
	for _, path := range FluxCommandPaths() {
		cmd, _, err := root.Find(strings.Fields(path))
		if err != nil {
			t.Fatalf("flux %s: %v", path, err)
		}
		state := "✅ built"
		if IsNotBuilt(cmd) {
			state = "⏳ not yet"
		}
		b.WriteString("| `flux " + path + "` | " + state + " |\n")
	}
	return b.String()
}

// TestREADMECommandTable checks the README's table against the tree: a row
// per path of Flux's CLI, and its ⏳ rows exactly the stubs.
func TestREADMECommandTable(t *testing.T) {
	readme := filepath.Join("..", "..", "README.md")
	b, err := os.ReadFile(readme)
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	begin, end := strings.Index(text, readmeTableBegin), strings.Index(text, readmeTableEnd)
	if begin < 0 || end < begin {
		t.Fatalf("README.md lacks the markers %q ... %q of the command table", readmeTableBegin, readmeTableEnd)
	}
	want := commandTable(t)
	got := text[begin+len(readmeTableBegin)+1 : end]
	if *update {
		text = text[:begin+len(readmeTableBegin)] + "\n" + want + text[end:]
		if err := os.WriteFile(readme, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		got = want
	}
	if got != want {
		t.Errorf("README.md's command table is out of date: go test ./internal/cli -run TestREADMECommandTable -update")
	}

	// The ⏳ rows, read back, are the stubs of the tree.
	var pending, stubs []string
	for _, m := range regexp.MustCompile("(?m)^\\| `flux ([^`]+)` \\| ⏳").FindAllStringSubmatch(got, -1) {
		pending = append(pending, m[1])
	}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if IsNotBuilt(c) {
			stubs = append(stubs, strings.TrimPrefix(c.CommandPath(), "flux "))
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(newOfflineFlux(t).root)
	sort.Strings(pending)
	sort.Strings(stubs)
	if strings.Join(pending, "\n") != strings.Join(stubs, "\n") {
		t.Errorf("README ⏳ rows:\n%s\nstubs in the tree:\n%s", strings.Join(pending, "\n"), strings.Join(stubs, "\n"))
	}
}
