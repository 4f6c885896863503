# Sourced by ./binmos, ./mvn25 and deploy scripts: sets BINMOS_JAVA_HOME to a JDK >= 25.
# Looks at JAVA_HOME first, then the standard JVM install locations; fails with a clear message.
binmos_java_major() {
  "$1/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p' | head -n 1
}
binmos_find_java() {
  local candidate major
  for candidate in "${JAVA_HOME:-}" /usr/lib/jvm/* /usr/java/* /opt/java/* /Library/Java/JavaVirtualMachines/*/Contents/Home; do
    [ -n "$candidate" ] && [ -x "$candidate/bin/java" ] && [ -x "$candidate/bin/javac" ] || continue
    major=$(binmos_java_major "$candidate")
    if [ -n "$major" ] && [ "${major%%.*}" -ge 25 ] 2>/dev/null; then
      BINMOS_JAVA_HOME=$candidate
      return 0
    fi
  done
  echo "binmos: no JDK 25 or newer found. Set JAVA_HOME to one (looked at \$JAVA_HOME and /usr/lib/jvm, /usr/java, /opt/java)." >&2
  return 1
}
