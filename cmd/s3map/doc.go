/*
S3map works with an S3 bucket prefix as a map, from the command line: list
its keys, read and write objects, copy, move and delete them, count them,
presign URLs, and clean up stale multipart uploads. It reads the same s3.yaml
as the library (storage.LoadConfig) and falls back to the AWS credential
chain.

Install it with:

	go install github.com/s3map/s3map/cmd/s3map@latest

Usage:

	s3map [global flags] COMMAND [flags] [arguments]

The commands are:

	ls             list the keys of the map (-l: size, ETag, time; -d: one level)
	get            download an object to a file (atomic, verified) or stdout
	cat            print objects to stdout
	put            upload a file or stdin ("-"), with --header and --meta
	rm             delete keys; -r deletes every key under a prefix, after a confirmation
	stat           show an object's size, ETag, metadata and headers
	cp             copy an object on the server
	mv             move an object: copy on the server, then delete
	clear          delete every key of the map, after a confirmation
	du             count the keys and bytes under a prefix
	presign        make a URL that reads (or, with --put, writes) an object
	buckets        list the buckets
	abort-uploads  abort multipart uploads older than --older-than (default 24h)
	config         show the configuration in use, secrets redacted
	completion     print a bash, zsh or fish completion script
	version        print the version
	help           show help for s3map or a command

The global flags go before or after the command:

	--config FILE    config file (default $S3MAP_CONFIG, ./s3.yaml, then
	                 s3map/s3.yaml in the user config directory)
	--endpoint URL   S3 endpoint, overriding the config's
	--bucket NAME    bucket, overriding the config's default_bucket
	--prefix PREFIX  the map's key prefix; keys are named relative to it
	--debug          print the configuration (secrets redacted) and full errors
	--no-progress    never show progress bars

Every command takes --help (or -h), which shows its flags and examples.

# Names

A key is named relative to --prefix in the default bucket: with --prefix
app/, the key "users/ann" is the object app/users/ann. "s3://bucket/key"
names any object, ignoring --prefix. Listings (ls, du) show keys the way
they were named: relative to --prefix, or in full for an s3:// argument.
Flags may come anywhere among the arguments; after "--" everything is an
argument, for keys that start with "-".

# Output

Human output goes to stdout and is meant to be read; --json prints JSON for
scripts instead: one object for most commands, one object per line for the
listings (ls, buckets, abort-uploads), so that long listings stream. Errors
go to stderr, one short line; --debug adds the whole error chain.

A progress bar is drawn on stderr for transfers of 1 MiB or more, only when
stderr is a terminal, never with --no-progress. For a download to a file and
for a server-side copy, the bar shows the size and the time taken, since no
bytes can be counted there yet.

# Exit codes

	0    success
	1    failure (including an answer of no to a confirmation)
	2    usage error: bad flags or arguments, an invalid key or header,
	     no bucket named, or a confirmation needed without a terminal
	3    not found: the object or the bucket does not exist
	130  interrupted

# Deleting

rm KEY... deletes keys; a key that does not exist is not an error, as in S3.
rm -r PREFIX and clear delete every key under a prefix: they count the keys,
ask for confirmation on the terminal, and refuse to run when stdin is not a
terminal unless --yes is given.

# Secrets

No command prints a secret key or session token: config and --debug show
them as REDACTED.
*/
package main
