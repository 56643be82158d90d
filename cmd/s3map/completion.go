package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/s3map/s3map/storage"
)

func completionCommand() *command {
	return &command{
		name: "completion", args: "bash|zsh|fish", minArgs: 1, maxArgs: 1,
		short: "print a shell completion script",
		long: `Print the completion script for the shell: commands, their flags, files
where a command takes a file, and keys (read from the bucket, one level at a
time) where it takes a key.`,
		examples: []string{
			"source <(s3map completion bash)            # bash, now; add to ~/.bashrc to keep",
			"s3map completion zsh > \"${fpath[1]}/_s3map\" # zsh",
			"s3map completion fish > ~/.config/fish/completions/s3map.fish",
		},
		setup: func(fs *flagSet) runFunc {
			return func(ctx context.Context, a *app, args []string) error {
				switch args[0] {
				case "bash":
					return writeBash(a.stdout, false)
				case "zsh":
					return writeBash(a.stdout, true)
				case "fish":
					return writeFish(a.stdout)
				}
				return usagef("no completion for shell %q: want bash, zsh or fish", args[0])
			}
		},
	}
}

// keysCommand is the hidden command completion calls to list keys.
func keysCommand() *command {
	return &command{
		name: "__keys", args: "PREFIX", maxArgs: 1, hidden: true,
		short: "list completions for a key",
		setup: func(fs *flagSet) runFunc {
			return func(ctx context.Context, a *app, args []string) error {
				ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
				defer cancel()
				r, st, err := a.openRoot(ctx, firstOr(args, ""))
				if err != nil {
					return err
				}
				objs, errf := st.List(ctx, r.bucket, r.prefix, &storage.ListOptions{Delimiter: "/", PageSize: 200})
				n := 0
				for info := range objs {
					key := r.show(info.Name.Key)
					if r.strip == "" && strings.HasPrefix(firstOr(args, ""), "s3://") {
						key = "s3://" + a.bucketOf(info.Name) + "/" + info.Name.Key
					}
					fmt.Fprintln(a.stdout, key)
					if n++; n == 200 {
						break
					}
				}
				return errf()
			}
		},
	}
}

// argKind says what a command's arguments complete to.
func argKind(name string) string {
	switch name {
	case "put":
		return "file"
	case "completion":
		return "shell"
	case "help":
		return "command"
	case "buckets", "config", "version", "clear":
		return ""
	}
	return "key"
}

func flagWords(specs []flagSpec) string {
	var w []string
	for _, s := range specs {
		w = append(w, "--"+s.long)
		if s.short != "" {
			w = append(w, "-"+s.short)
		}
	}
	return strings.Join(w, " ")
}

func valueFlags(specs []flagSpec) []string {
	var w []string
	for _, s := range specs {
		if s.arg != "" {
			w = append(w, "--"+s.long)
			if s.short != "" {
				w = append(w, "-"+s.short)
			}
		}
	}
	return w
}

func visibleCommands() []*command {
	var cs []*command
	for _, c := range commands {
		if !c.hidden {
			cs = append(cs, c)
		}
	}
	return cs
}

func commandNames() string {
	var names []string
	for _, c := range visibleCommands() {
		names = append(names, c.name)
	}
	return strings.Join(names, " ")
}

// writeBash writes the bash script; zsh runs it through bashcompinit.
func writeBash(w io.Writer, zsh bool) error {
	var scratch app
	g := newFlagSet("s3map")
	scratch.globalFlags(g)
	var b strings.Builder
	if zsh {
		b.WriteString("#compdef s3map\n# zsh completion for s3map, through zsh's bash compatibility\nautoload -U +X bashcompinit && bashcompinit\n")
	} else {
		b.WriteString("# bash completion for s3map\n")
	}
	var allValue []string
	allValue = append(allValue, valueFlags(g.specs)...)
	for _, c := range commands {
		fs := newFlagSet(c.name)
		c.setup(fs)
		allValue = append(allValue, valueFlags(fs.specs)...)
	}
	fmt.Fprintf(&b, `_s3map() {
    local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD-1]}"
    local cmd="" i globals=()
    for ((i=1; i<COMP_CWORD; i++)); do
        case "${COMP_WORDS[i]}" in
            --config|--endpoint|--bucket|--prefix)
                globals+=("${COMP_WORDS[i]}" "${COMP_WORDS[i+1]}"); ((i++));;
            %s) ((i++));;
            -*) ;;
            *) [[ -z "$cmd" ]] && cmd="${COMP_WORDS[i]}";;
        esac
    done
    case "$prev" in
        --config) COMPREPLY=($(compgen -f -- "$cur")); return;;
        %s) return;;
    esac
    local gflags=%q
    if [[ -z "$cmd" ]]; then
        if [[ "$cur" == -* ]]; then
            COMPREPLY=($(compgen -W "$gflags --help --version" -- "$cur"))
        else
            COMPREPLY=($(compgen -W %q -- "$cur"))
        fi
        return
    fi
    local flags="" kind=""
    case "$cmd" in
`, strings.Join(allValue, "|"), strings.Join(allValue, "|"), flagWords(g.specs), commandNames())
	for _, c := range visibleCommands() {
		fs := newFlagSet(c.name)
		c.setup(fs)
		fmt.Fprintf(&b, "        %s) flags=%q; kind=%s;;\n", c.name, flagWords(fs.specs), argKind(c.name))
	}
	fmt.Fprintf(&b, `    esac
    if [[ "$cur" == -* ]]; then
        COMPREPLY=($(compgen -W "$flags $gflags --help" -- "$cur"))
        return
    fi
    case "$kind" in
        file) COMPREPLY=($(compgen -f -- "$cur"));;
        shell) COMPREPLY=($(compgen -W "bash zsh fish" -- "$cur"));;
        command) COMPREPLY=($(compgen -W %q -- "$cur"));;
        key)
            local IFS=$'\n'
            COMPREPLY=($(compgen -W "$(s3map "${globals[@]}" __keys -- "$cur" 2>/dev/null)" -- "$cur"))
            compopt -o nospace 2>/dev/null
            ;;
    esac
}
complete -o default -F _s3map s3map
`, commandNames())
	_, err := io.WriteString(w, b.String())
	return err
}

// writeFish writes the fish script.
func writeFish(w io.Writer) error {
	var scratch app
	g := newFlagSet("s3map")
	scratch.globalFlags(g)
	var b strings.Builder
	b.WriteString("# fish completion for s3map\ncomplete -c s3map -f\n")
	b.WriteString("function __s3map_keys\n    s3map __keys -- (commandline -ct) 2>/dev/null\nend\n")
	for _, s := range g.specs {
		fishFlag(&b, "", s)
	}
	for _, c := range visibleCommands() {
		fmt.Fprintf(&b, "complete -c s3map -n __fish_use_subcommand -a %s -d %s\n", c.name, fishQuote(c.short))
		fs := newFlagSet(c.name)
		c.setup(fs)
		cond := "__fish_seen_subcommand_from " + c.name
		for _, s := range fs.specs {
			fishFlag(&b, cond, s)
		}
		switch argKind(c.name) {
		case "file":
			fmt.Fprintf(&b, "complete -c s3map -n %s -F\n", fishQuote(cond))
		case "shell":
			fmt.Fprintf(&b, "complete -c s3map -n %s -a 'bash zsh fish'\n", fishQuote(cond))
		case "command":
			fmt.Fprintf(&b, "complete -c s3map -n %s -a %s\n", fishQuote(cond), fishQuote(commandNames()))
		case "key":
			fmt.Fprintf(&b, "complete -c s3map -n %s -a '(__s3map_keys)'\n", fishQuote(cond))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func fishFlag(b *strings.Builder, cond string, s flagSpec) {
	fmt.Fprintf(b, "complete -c s3map")
	if cond != "" {
		fmt.Fprintf(b, " -n %s", fishQuote(cond))
	}
	fmt.Fprintf(b, " -l %s", s.long)
	if s.short != "" {
		fmt.Fprintf(b, " -o %s", s.short)
	}
	if s.arg != "" {
		b.WriteString(" -r")
		if s.long == "config" {
			b.WriteString(" -F")
		}
	}
	fmt.Fprintf(b, " -d %s\n", fishQuote(s.usage))
}

func fishQuote(s string) string {
	return "'" + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), "'", `\'`) + "'"
}
