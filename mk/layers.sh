#!/bin/sh
# mk/layers.sh [LIBDIR] — check that lib/'s layers point down only; TAP, one point per layer.
#   base < crypto < proto < io
# A module includes headers of its own layer or of a lower one, never of a higher one.
# What does I/O stays in io/: libwebsockets, libmicrohttpd, curl, SQLite, sockets, polling, threads and
# POSIX file calls. base/ is libc only (no libsodium, OpenSSL, jansson).
# (<arpa/inet.h> is allowed everywhere: inet_pton/ntop convert text, they open nothing.)
lib=${1:-lib}
io_only='<libwebsockets\.h>|<microhttpd\.h>|<curl/|<sqlite3\.h>|<sys/socket\.h>|<netinet/|<netdb\.h>|<sys/un\.h>|<sys/epoll\.h>|<sys/eventfd\.h>|<poll\.h>|<pthread\.h>|<fcntl\.h>|<unistd\.h>|<sys/stat\.h>|<sys/file\.h>|<sys/uio\.h>|<dirent\.h>'
base_not='<sodium\.h>|<openssl/|<jansson\.h>'
layers="base crypto proto io"
n=0 bad=0
rank() { i=0; for l in $layers; do [ "$l" = "$1" ] && { echo $i; return; }; i=$((i + 1)); done; echo 99; }
for d in "$lib"/*/; do
	d=${d%/}; l=${d##*/}
	n=$((n + 1))
	case " $layers " in *" $l "*) ;; *)
		echo "not ok $n - $lib/$l: not a layer (lib/ holds only: $layers)"; bad=$((bad + 1)); continue ;;
	esac
	r=$(rank "$l") out=
	for f in "$d"/*.c "$d"/*.h; do
		[ -f "$f" ] || continue
		while IFS= read -r line; do
			no=${line%%:*} inc=${line#*:}
			case "$inc" in
			*'#include "'*)
				h=${inc#*\"}; h=${h%%\"*}
				case "$h" in
				*/*) hl=${h%%/*}
					if [ "$(rank "$hl")" -gt "$r" ]; then
						out="$out#   $f:$no: $l/ includes $h, a higher layer
"
					fi ;;
				*) out="$out#   $f:$no: include \"$h\" names no layer (write \"<layer>/$h\")
" ;;
				esac ;;
			*'#include <'*)
				if [ "$l" != io ] && printf '%s\n' "$inc" | grep -Eq "$io_only"; then
					out="$out#   $f:$no: ${inc#\#include } does I/O: only lib/io/ may include it
"
				elif [ "$l" = base ] && printf '%s\n' "$inc" | grep -Eq "$base_not"; then
					out="$out#   $f:$no: ${inc#\#include } in base/, which is libc only
"
				fi ;;
			esac
		done <<EOF
$(grep -n '^[[:space:]]*#[[:space:]]*include' "$f")
EOF
	done
	if [ -n "$out" ]; then
		echo "not ok $n - $lib/$l"
		printf '%s' "$out"
		bad=$((bad + 1))
	else
		echo "ok $n - $lib/$l"
	fi
done
for f in "$lib"/*.c "$lib"/*.h; do
	[ -f "$f" ] || continue
	n=$((n + 1)); bad=$((bad + 1))
	echo "not ok $n - $f: outside the layer folders"
done
echo "1..$n"
[ "$bad" -eq 0 ]
