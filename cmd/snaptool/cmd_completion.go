package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/spf13/pflag"
)

func init() {
	register(&command{name: "completion", summary: "print a shell completion script: bash, zsh or fish", run: runCompletion})
}

const completionUsage = `Usage: snaptool completion bash|zsh|fish

Prints a completion script for the shell, generated from snaptool's
commands and their flags (file names complete where a file is expected,
and each command's format names after its format flag). Load it with:

  bash   source <(snaptool completion bash)      (or put it in /etc/bash_completion.d/)
  zsh    snaptool completion zsh > "${fpath[1]}/_snaptool"   (then compinit)
  fish   snaptool completion fish > ~/.config/fish/completions/snaptool.fish`

// completionShells are the shells completion writes a script for.
var completionShells = []string{"bash", "zsh", "fish"}

// cmdFlags is the completion table: for each command (and kv's
// subcommands) the function that registers its flags, through the same
// options struct and AddFlags the command itself uses, and its --format
// names. TestCompletionTable fails when a registered command is missing.
var cmdFlags = map[string]struct {
	add     func(fs *pflag.FlagSet)
	formats []string
	sub     []string // subcommands (kv), or the words the argument takes (help, completion)
}{
	"inspect":    {add: func(fs *pflag.FlagSet) { (&inspectOptions{}).AddFlags(fs) }, formats: inspectFormats},
	"verify":     {add: func(fs *pflag.FlagSet) { (&verifyOptions{}).AddFlags(fs) }, formats: verifyFormats},
	"dump":       {add: func(fs *pflag.FlagSet) { (&dumpOptions{}).AddFlags(fs) }, formats: dumpFormats},
	"diff":       {add: func(fs *pflag.FlagSet) { (&diffOptions{}).AddFlags(fs) }, formats: []string{"text", "json", "jsonl"}},
	"top":        {add: func(fs *pflag.FlagSet) { (&topOptions{}).AddFlags(fs) }, formats: topFormats},
	"kv export":  {add: func(fs *pflag.FlagSet) { (&kvExportOptions{}).AddFlags(fs) }},
	"kv get":     {add: func(fs *pflag.FlagSet) { (&kvGetOptions{}).AddFlags(fs) }},
	"kv":         {sub: []string{"export", "get"}},
	"report":     {add: func(fs *pflag.FlagSet) { (&reportOptions{}).AddFlags(fs) }},
	"preflight":  {add: func(fs *pflag.FlagSet) { (&preflightOptions{}).AddFlags(fs) }, formats: preflightFormats},
	"rewrite":    {add: func(fs *pflag.FlagSet) { (&rewriteOptions{}).AddFlags(fs) }},
	"history":    {add: func(fs *pflag.FlagSet) { (&historyOptions{}).AddFlags(fs) }, formats: historyFormats},
	"log":        {add: func(fs *pflag.FlagSet) { (&logOptions{}).AddFlags(fs) }, formats: logFormats},
	"version":    {},
	"completion": {sub: completionShells},
	"help":       {}, // its words are the command names
}

// compFlag is one flag as completion offers it.
type compFlag struct {
	long, short, usage string
	takesValue         bool
}

// compCommand is one command (or "kv export") as completion offers it.
type compCommand struct {
	name, summary string
	flags         []compFlag
	formats       []string
	words         []string // fixed words for the first argument
	files         bool     // arguments are files
}

// completionModel reads the command table.
func completionModel() []compCommand {
	names := make([]string, 0, len(cmdFlags))
	for n := range cmdFlags {
		names = append(names, n)
	}
	sort.Strings(names)
	var out []compCommand
	for _, n := range names {
		spec := cmdFlags[n]
		c := compCommand{name: n, formats: spec.formats, words: spec.sub, files: spec.add != nil}
		if n == "help" {
			c.words = commandNames()
		}
		if top, ok := commands[strings.Fields(n)[0]]; ok {
			c.summary = top.summary
		}
		if spec.add != nil {
			fs := newFlagSet(n)
			spec.add(fs)
			fs.VisitAll(func(f *pflag.Flag) {
				c.flags = append(c.flags, compFlag{long: f.Name, short: f.Shorthand, usage: f.Usage, takesValue: f.Value.Type() != "bool"})
			})
			c.flags = append(c.flags, compFlag{long: "help", short: "h", usage: "show this help"})
		}
		out = append(out, c)
	}
	return out
}

// commandNames are the registered commands, sorted.
func commandNames() []string {
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func runCompletion(ctx context.Context, args []string, e *env) error {
	fs := newFlagSet("completion")
	if err := parseFlags(fs, args, e, completionUsage); err != nil {
		return err
	}
	if err := checkArgs(fs, "bash|zsh|fish", 1, 1); err != nil {
		return err
	}
	var err error
	switch fs.Arg(0) {
	case "bash":
		err = writeBash(e.stdout, completionModel())
	case "zsh":
		err = writeZsh(e.stdout, completionModel())
	case "fish":
		err = writeFish(e.stdout, completionModel())
	default:
		return usagef("snaptool completion bash|zsh|fish", "unknown shell %q (want bash, zsh or fish)", fs.Arg(0))
	}
	if err != nil {
		return fmt.Errorf("writing output: %w", err)
	}
	return nil
}

func flagWords(c compCommand) string {
	var w []string
	for _, f := range c.flags {
		w = append(w, "--"+f.long)
		if f.short != "" {
			w = append(w, "-"+f.short)
		}
	}
	return strings.Join(w, " ")
}

func writeBash(w io.Writer, cmds []compCommand) error {
	var b strings.Builder
	b.WriteString("# bash completion for snaptool; generated by `snaptool completion bash`.\n")
	b.WriteString("_snaptool() {\n")
	b.WriteString("    local cur prev cmd words flags formats\n")
	b.WriteString("    cur=\"${COMP_WORDS[COMP_CWORD]}\"\n")
	b.WriteString("    prev=\"${COMP_WORDS[COMP_CWORD-1]}\"\n")
	fmt.Fprintf(&b, "    if [[ $COMP_CWORD -eq 1 ]]; then\n        COMPREPLY=($(compgen -W %q -- \"$cur\"))\n        return\n    fi\n", strings.Join(commandNames(), " "))
	b.WriteString("    cmd=\"${COMP_WORDS[1]}\"\n")
	b.WriteString("    if [[ $cmd == kv && $COMP_CWORD -ge 3 ]]; then cmd=\"kv ${COMP_WORDS[2]}\"; fi\n")
	b.WriteString("    files=1\n")
	b.WriteString("    case \"$cmd\" in\n")
	for _, c := range cmds {
		fmt.Fprintf(&b, "        %q) words=%q; flags=%q; formats=%q", c.name, strings.Join(c.words, " "), flagWords(c), strings.Join(c.formats, " "))
		if !c.files {
			b.WriteString("; files=0")
		}
		b.WriteString(" ;;\n")
	}
	b.WriteString("        *) return ;;\n    esac\n")
	b.WriteString("    if [[ $prev == --format ]]; then\n        COMPREPLY=($(compgen -W \"$formats\" -- \"$cur\"))\n        return\n    fi\n")
	b.WriteString("    if [[ -n $words && ( $COMP_CWORD -eq 2 || $cmd == help ) ]]; then\n        COMPREPLY=($(compgen -W \"$words\" -- \"$cur\"))\n        return\n    fi\n")
	b.WriteString("    if [[ $cur == -* ]]; then\n        COMPREPLY=($(compgen -W \"$flags\" -- \"$cur\"))\n    elif [[ $files == 1 ]]; then\n        COMPREPLY=($(compgen -f -- \"$cur\"))\n    fi\n")
	b.WriteString("}\ncomplete -o filenames -o bashdefault -F _snaptool snaptool\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// zshDesc makes text safe inside a single-quoted _arguments spec's [...].
func zshDesc(s string) string {
	r := strings.NewReplacer("'", "'\\''", "[", "(", "]", ")", ":", "\\:", "\\", "\\\\")
	return r.Replace(s)
}

func writeZsh(w io.Writer, cmds []compCommand) error {
	var b strings.Builder
	b.WriteString("#compdef snaptool\n# zsh completion for snaptool; generated by `snaptool completion zsh`.\n\n")
	b.WriteString("_snaptool() {\n    local -a commands\n    commands=(\n")
	for _, n := range commandNames() {
		fmt.Fprintf(&b, "        '%s:%s'\n", n, zshDesc(commands[n].summary))
	}
	b.WriteString("    )\n    if (( CURRENT == 2 )); then\n        _describe -t commands 'snaptool command' commands\n        return\n    fi\n")
	b.WriteString("    local cmd=$words[2]\n    if [[ $cmd == kv && CURRENT -ge 4 ]]; then cmd=\"kv $words[3]\"; shift words; (( CURRENT-- )); fi\n")
	b.WriteString("    shift words; (( CURRENT-- ))\n")
	b.WriteString("    case $cmd in\n")
	for _, c := range cmds {
		fmt.Fprintf(&b, "        %q)\n            _arguments -s", c.name)
		for _, f := range c.flags {
			val := ""
			if f.takesValue {
				switch {
				case f.long == "format" && len(c.formats) > 0:
					val = ":format:(" + strings.Join(c.formats, " ") + ")"
				default:
					val = ":" + f.long + ":_files"
				}
			}
			if f.short != "" {
				fmt.Fprintf(&b, " \\\n                '(-%s --%s)'{-%s,--%s}'[%s]%s'", f.short, f.long, f.short, f.long, zshDesc(f.usage), val)
			} else {
				fmt.Fprintf(&b, " \\\n                '--%s[%s]%s'", f.long, zshDesc(f.usage), val)
			}
		}
		switch {
		case len(c.words) > 0:
			fmt.Fprintf(&b, " \\\n                '1:argument:(%s)'", strings.Join(c.words, " "))
		case c.files:
			b.WriteString(" \\\n                '*:file:_files'")
		default:
			b.WriteString(" \\\n                '*:: :'")
		}
		b.WriteString("\n            ;;\n")
	}
	b.WriteString("    esac\n}\n\nif [[ $zsh_eval_context[-1] == loadautofunc ]]; then\n    _snaptool \"$@\"\nelse\n    compdef _snaptool snaptool\nfi\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// fishQuote quotes s for fish (single quotes, \ and ' escaped).
func fishQuote(s string) string {
	return "'" + strings.NewReplacer("\\", "\\\\", "'", "\\'").Replace(s) + "'"
}

func writeFish(w io.Writer, cmds []compCommand) error {
	var b strings.Builder
	b.WriteString("# fish completion for snaptool; generated by `snaptool completion fish`.\n")
	b.WriteString("complete -c snaptool -f\n")
	all := strings.Join(commandNames(), " ")
	for _, n := range commandNames() {
		fmt.Fprintf(&b, "complete -c snaptool -n 'not __fish_seen_subcommand_from %s' -a %s -d %s\n", all, n, fishQuote(commands[n].summary))
	}
	for _, c := range cmds {
		cond := "__fish_seen_subcommand_from " + c.name
		if sub, ok := strings.CutPrefix(c.name, "kv "); ok {
			cond = "__fish_seen_subcommand_from kv; and __fish_seen_subcommand_from " + sub
		}
		if len(c.words) > 0 {
			fmt.Fprintf(&b, "complete -c snaptool -n %s -a %s\n", fishQuote(cond), fishQuote(strings.Join(c.words, " ")))
		}
		if c.files {
			fmt.Fprintf(&b, "complete -c snaptool -n %s -F\n", fishQuote(cond))
		}
		for _, f := range c.flags {
			fmt.Fprintf(&b, "complete -c snaptool -n %s -l %s", fishQuote(cond), f.long)
			if f.short != "" {
				fmt.Fprintf(&b, " -s %s", f.short)
			}
			if f.takesValue {
				if f.long == "format" && len(c.formats) > 0 {
					fmt.Fprintf(&b, " -x -a %s", fishQuote(strings.Join(c.formats, " ")))
				} else {
					b.WriteString(" -r -F")
				}
			}
			fmt.Fprintf(&b, " -d %s\n", fishQuote(f.usage))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
