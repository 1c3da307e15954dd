#!/usr/bin/env python3
"""The longest Rust functions: finds `fn name` and matches braces, skipping strings and
comments. Used by scripts/code_stats.sh.
Usage: fn_sizes.py ROOT [N] [--all]   (default: skips files under tests/ and #[cfg(test)] mod tests)"""
import os, re, sys
root = sys.argv[1]; n = int(sys.argv[2]) if len(sys.argv) > 2 else 10
include_tests = '--all' in sys.argv
res = []
def strip(src):
    # replace strings, chars, comments by spaces, keep newlines
    out = []; i = 0; L = len(src)
    while i < L:
        c = src[i]
        if src.startswith('//', i):
            j = src.find('\n', i); j = L if j < 0 else j
            out.append(' ' * (j - i)); i = j
        elif src.startswith('/*', i):
            j = src.find('*/', i + 2); j = L if j < 0 else j + 2
            out.append(re.sub(r'[^\n]', ' ', src[i:j])); i = j
        elif c == 'r' and re.match(r'r#*"', src[i:i+10]) and (i == 0 or not (src[i-1].isalnum() or src[i-1]=='_')):
            m = re.match(r'r(#*)"', src[i:]); h = m.group(1)
            j = src.find('"' + h, i + len(m.group(0))); j = L if j < 0 else j + 1 + len(h)
            out.append(re.sub(r'[^\n]', ' ', src[i:j])); i = j
        elif c == '"':
            j = i + 1
            while j < L and src[j] != '"':
                j += 2 if src[j] == '\\' else 1
            j += 1
            out.append(re.sub(r'[^\n]', ' ', src[i:j])); i = j
        elif c == "'":
            m = re.match(r"'(\\.[^']*|[^\\'])'", src[i:])
            if m:
                out.append(' ' * len(m.group(0))); i += len(m.group(0))
            else:
                out.append(c); i += 1
        else:
            out.append(c); i += 1
    return ''.join(out)
for dp, dn, fn in os.walk(root):
    if '/target' in dp or '/.git' in dp: continue
    if not include_tests and ('/tests' in dp or '/benches' in dp or '/fuzz' in dp): continue
    for f in fn:
        if not f.endswith('.rs'): continue
        p = os.path.join(dp, f)
        s = strip(open(p, encoding='utf-8', errors='replace').read())
        # cut test modules
        cut = len(s)
        if not include_tests:
            m = re.search(r'#\[cfg\(test\)\]\s*mod\s+\w+\s*\{', s)
            if m: cut = m.start()
        for m in re.finditer(r'\bfn\s+(\w+)', s[:cut]):
            k = m.end()
            depth = 0; start = None
            while k < len(s):
                if s[k] == ';' and start is None and depth == 0: break
                if s[k] == '{':
                    if start is None: start = k
                    depth += 1
                elif s[k] == '}':
                    depth -= 1
                    if start is not None and depth == 0: break
                elif s[k] in '(<' and start is None: depth += 0
                k += 1
            if start is None: continue
            l0 = s.count('\n', 0, m.start()) + 1; l1 = s.count('\n', 0, k) + 1
            res.append((l1 - l0 + 1, m.group(1), os.path.relpath(p, root) + ':' + str(l0)))
res.sort(reverse=True)
for r in res[:n]: print(*r)
