"""A password hasher that counts how often it hashes, to compare the work that requests cost."""

import time

from django.contrib.auth.hashers import MD5PasswordHasher


class CountingHasher(MD5PasswordHasher):
    algorithm = "counted_md5"
    calls = 0

    def encode(self, password, salt):
        CountingHasher.calls += 1
        return super().encode(password, salt)


class SlowHasher(CountingHasher):
    """Hashing as dear as a real password hasher's, without using the CPU (a sleep), so that a
    path that skips it shows against one that does whatever else the machine is doing."""

    algorithm = "slow_md5"
    seconds = 0.06

    def encode(self, password, salt):
        time.sleep(self.seconds)
        return super().encode(password, salt)
