import re
S = '/usr/share/nmap/scripts/'
def desc_after_title(script, title):
    src = open(S + script).read()
    i = src.index('title = "%s"' % title) if ('title = "%s"' % title) in src else src.index("title = '%s'" % title)
    j = src.index('description = [[', i)
    k = src.index(']]', j)
    d = src[j + len('description = [['):k]
    if d.startswith('\n'): d = d[1:]
    line = src[:i].count('\n') + 1
    endline = src[:k].count('\n') + 1
    return d, line, endline
if __name__ == '__main__':
    d, a, b = desc_after_title('ssl-heartbleed.nse', 'The Heartbleed Bug is a serious vulnerability in the popular OpenSSL cryptographic software library. It allows for stealing information intended to be protected by SSL/TLS encryption.')
    print(repr(d), a, b)
