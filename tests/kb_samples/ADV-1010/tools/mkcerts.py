import datetime, ipaddress
from cryptography import x509
from cryptography.x509.oid import NameOID
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
now = datetime.datetime(2026,11,27, tzinfo=datetime.timezone.utc)
def key(bits):
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)
def save(name, k, c):
    open(name+'.key','wb').write(k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()))
    open(name+'.crt','wb').write(c.public_bytes(serialization.Encoding.PEM))
def name(cn): return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
def build(subj, issuer, pub, signkey, nb, na, h, san=None, ca=False):
    b = (x509.CertificateBuilder().subject_name(name(subj)).issuer_name(name(issuer))
         .public_key(pub).serial_number(x509.random_serial_number()).not_valid_before(nb).not_valid_after(na))
    if san: b = b.add_extension(x509.SubjectAlternativeName(san), critical=False)
    b = b.add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    return b.sign(signkey, h)
d = datetime.timedelta
cak = key(2048); ca = build('Advisor Lab Test CA','Advisor Lab Test CA',cak.public_key(),cak, now-d(days=10), now+d(days=3650), hashes.SHA256(), ca=True); save('ca',cak,ca)
k = key(2048); save('good', k, build('lab.example.test','Advisor Lab Test CA',k.public_key(),cak, now-d(days=1), now+d(days=365), hashes.SHA256(), san=[x509.DNSName('lab.example.test')]))
pass
k=key(1024)
k = key(2048); save('intaddr', k, build('192.168.10.5','Advisor Lab Test CA',k.public_key(),cak, now-d(days=1), now+d(days=365), hashes.SHA256(), san=[x509.DNSName('mail.corp.internal'), x509.IPAddress(ipaddress.ip_address('10.1.2.3'))]))
