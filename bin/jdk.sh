# Sourced by bin/mlip and bin/test: finds a JDK 25 and exports JAVA_HOME and PATH.
# Order: $JAVA_HOME if it is 25+, then `java` on the PATH if 25+, then /usr/lib/jvm/*25*.
java_major() { "$1" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -1; }
mlip_find_jdk() {
  local cand
  for cand in "${JAVA_HOME:-}" "$(dirname "$(dirname "$(readlink -f "$(command -v java 2>/dev/null || echo /nonexistent)")")")" \
              /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/*25* /usr/lib/jvm/*; do
    [ -n "$cand" ] && [ -x "$cand/bin/java" ] && [ -x "$cand/bin/javac" ] || continue
    local v; v=$(java_major "$cand/bin/java")
    if [ -n "$v" ] && [ "$v" -ge 25 ]; then echo "$cand"; return 0; fi
  done
  return 1
}
if ! MLIP_JDK=$(mlip_find_jdk); then
  echo "error: MLIP needs a JDK 25 or newer (Vector API + FFM). Set JAVA_HOME to one, or install Temurin 25 in /usr/lib/jvm." >&2
  exit 1
fi
export JAVA_HOME="$MLIP_JDK"
export PATH="$JAVA_HOME/bin:$PATH"
# Maven 3.8's bundled Guava calls sun.misc.Unsafe, which JDK 25 warns about on every run; that noise is not ours.
export MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow"
