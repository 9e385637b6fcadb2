"""Runs unittest modules and prints TAP: one line per test, "ok" only for a
test whose assertions all held, "not ok" with the traceback as comments
for a failure or error, "# SKIP" with the reason for a skip."""

import sys
import unittest


class TapResult(unittest.TestResult):

    def __init__(self):
        super().__init__()
        self.count = 0

    def _line(self, status, test, directive=''):
        self.count += 1
        print('%s %d - %s%s' % (status, self.count, test.id(), directive),
              flush=True)

    def addSuccess(self, test):
        super().addSuccess(test)
        self._line('ok', test)

    def _failed(self, test, err):
        self._line('not ok', test)
        for line in self._exc_info_to_string(err, test).splitlines():
            print('# ' + line)

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._failed(test, err)

    def addError(self, test, err):
        super().addError(test, err)
        self._failed(test, err)

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self._line('ok', test, ' # SKIP ' + reason)


def main(names):
    suite = unittest.defaultTestLoader.loadTestsFromNames(names)
    result = TapResult()
    suite.run(result)
    print('1..%d' % result.count)
    return 0 if result.wasSuccessful() and result.count > 0 else 1


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
