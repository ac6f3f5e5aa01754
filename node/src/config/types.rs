//! Typed values of the directives that are not a plain bool, number or
//! string: the enumerations (with the exact names Redis 7.0 accepts, in
//! Redis's order, which its error messages list), `save` points, client output
//! buffer limits, keyspace notification flags, shutdown flags and
//! memory-or-percent values.

/// Declares a config enumeration: the Rust enum, its default, and the names
/// Redis accepts for each value (several names may map to one value; CONFIG
/// GET renders the first).
macro_rules! config_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $var:ident ),+ $(,)?
        }
        default $def:ident;
        names { $( $s:literal => $v:ident ),+ $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $( $(#[$vmeta])* $var ),+
        }

        impl Default for $name {
            fn default() -> Self {
                $name::$def
            }
        }

        impl $name {
            /// Every accepted name with its value, in Redis's order.
            pub const ITEMS: &'static [(&'static str, $name)] = &[ $( ($s, $name::$v) ),+ ];
            /// Every accepted name, in Redis's order.
            pub const NAMES: &'static [&'static str] = &[ $( $s ),+ ];

            /// The name CONFIG GET and CONFIG REWRITE render.
            pub fn as_str(self) -> &'static str {
                Self::ITEMS.iter().find(|(_, v)| *v == self).map_or("unknown", |(s, _)| s)
            }

            /// Parses a name, case-insensitively as Redis does.
            pub fn parse(s: &str) -> Option<Self> {
                Self::ITEMS.iter().find(|(n, _)| n.eq_ignore_ascii_case(s)).map(|(_, v)| *v)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

config_enum! {
    /// `loglevel` (Redis 7.0 has no `nothing`; that arrived in 7.2).
    pub enum LogLevel { Debug, Verbose, Notice, Warning }
    default Notice;
    names { "debug" => Debug, "verbose" => Verbose, "notice" => Notice, "warning" => Warning }
}

config_enum! {
    /// `maxmemory-policy`.
    pub enum MaxmemoryPolicy {
        VolatileLru, VolatileLfu, VolatileRandom, VolatileTtl,
        AllkeysLru, AllkeysLfu, AllkeysRandom, NoEviction,
    }
    default NoEviction;
    names {
        "volatile-lru" => VolatileLru, "volatile-lfu" => VolatileLfu,
        "volatile-random" => VolatileRandom, "volatile-ttl" => VolatileTtl,
        "allkeys-lru" => AllkeysLru, "allkeys-lfu" => AllkeysLfu,
        "allkeys-random" => AllkeysRandom, "noeviction" => NoEviction,
    }
}

impl MaxmemoryPolicy {
    /// Whether objects track LFU counters (instead of LRU clocks).
    pub fn is_lfu(self) -> bool {
        matches!(self, MaxmemoryPolicy::AllkeysLfu | MaxmemoryPolicy::VolatileLfu)
    }

    /// Whether eviction only considers keys with an expire.
    pub fn is_volatile(self) -> bool {
        matches!(
            self,
            MaxmemoryPolicy::VolatileLru
                | MaxmemoryPolicy::VolatileLfu
                | MaxmemoryPolicy::VolatileRandom
                | MaxmemoryPolicy::VolatileTtl
        )
    }
}

config_enum! {
    /// `appendfsync`.
    pub enum AppendFsync { EverySec, Always, No }
    default EverySec;
    names { "everysec" => EverySec, "always" => Always, "no" => No }
}

config_enum! {
    /// `supervised`.
    pub enum Supervised { Upstart, Systemd, Auto, No }
    default No;
    names { "upstart" => Upstart, "systemd" => Systemd, "auto" => Auto, "no" => No }
}

config_enum! {
    /// `syslog-facility`.
    pub enum SyslogFacility { User, Local0, Local1, Local2, Local3, Local4, Local5, Local6, Local7 }
    default Local0;
    names {
        "user" => User, "local0" => Local0, "local1" => Local1, "local2" => Local2, "local3" => Local3,
        "local4" => Local4, "local5" => Local5, "local6" => Local6, "local7" => Local7,
    }
}

config_enum! {
    /// `repl-diskless-load`.
    pub enum ReplDisklessLoad { Disabled, OnEmptyDb, Swapdb }
    default Disabled;
    names { "disabled" => Disabled, "on-empty-db" => OnEmptyDb, "swapdb" => Swapdb }
}

config_enum! {
    /// `oom-score-adj` (`yes` is an alias of `relative`).
    pub enum OomScoreAdj { No, Relative, Absolute }
    default No;
    names { "no" => No, "yes" => Relative, "relative" => Relative, "absolute" => Absolute }
}

config_enum! {
    /// `acl-pubsub-default`.
    pub enum AclPubsubDefault { AllChannels, ResetChannels }
    default ResetChannels;
    names { "allchannels" => AllChannels, "resetchannels" => ResetChannels }
}

config_enum! {
    /// `sanitize-dump-payload`.
    pub enum SanitizeDumpPayload { No, Yes, Clients }
    default No;
    names { "no" => No, "yes" => Yes, "clients" => Clients }
}

config_enum! {
    /// `enable-protected-configs`, `enable-debug-command`,
    /// `enable-module-command`.
    pub enum ProtectedAction { No, Yes, Local }
    default No;
    names { "no" => No, "yes" => Yes, "local" => Local }
}

impl ProtectedAction {
    /// Redis's `allowProtectedAction`: allowed for everyone, or only for
    /// clients connected over loopback / a unix socket.
    pub fn allows(self, client_is_local: bool) -> bool {
        self == ProtectedAction::Yes || (self == ProtectedAction::Local && client_is_local)
    }
}

config_enum! {
    /// `cluster-preferred-endpoint-type`.
    pub enum ClusterEndpointType { Ip, Hostname, UnknownEndpoint }
    default Ip;
    names { "ip" => Ip, "hostname" => Hostname, "unknown-endpoint" => UnknownEndpoint }
}

config_enum! {
    /// `propagation-error-behavior`.
    pub enum PropagationErrorBehavior { Ignore, Panic, PanicOnReplicas }
    default Ignore;
    names { "ignore" => Ignore, "panic" => Panic, "panic-on-replicas" => PanicOnReplicas }
}

config_enum! {
    /// `tls-auth-clients`.
    pub enum TlsAuthClients { No, Yes, Optional }
    default Yes;
    names { "no" => No, "yes" => Yes, "optional" => Optional }
}

/// One `save <seconds> <changes>` point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SavePoint {
    /// Seconds since the last successful save (at least 1).
    pub seconds: u64,
    /// Minimum number of changes in that time.
    pub changes: u64,
}

/// Redis's default `save` points: `3600 1 300 100 60 10000`.
pub const DEFAULT_SAVE: [SavePoint; 3] = [
    SavePoint {
        seconds: 3600,
        changes: 1,
    },
    SavePoint {
        seconds: 300,
        changes: 100,
    },
    SavePoint {
        seconds: 60,
        changes: 10000,
    },
];

/// The client classes `client-output-buffer-limit` configures, in Redis's
/// order (index into [`crate::config::Config::client_output_buffer_limit`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClientClass {
    /// Ordinary clients.
    Normal = 0,
    /// Replicas (also spelled `slave`).
    Replica = 1,
    /// Clients subscribed to channels or patterns.
    Pubsub = 2,
}

impl ClientClass {
    /// All classes in Redis's order.
    pub const ALL: [ClientClass; 3] = [ClientClass::Normal, ClientClass::Replica, ClientClass::Pubsub];

    /// Redis's `getClientTypeByName` restricted to the configurable classes
    /// (`master` is a valid client type but not configurable).
    pub(crate) fn parse(s: &str) -> Option<ClientClass> {
        if s.eq_ignore_ascii_case("normal") {
            Some(ClientClass::Normal)
        } else if s.eq_ignore_ascii_case("slave") || s.eq_ignore_ascii_case("replica") {
            Some(ClientClass::Replica)
        } else if s.eq_ignore_ascii_case("pubsub") {
            Some(ClientClass::Pubsub)
        } else {
            None
        }
    }

    /// The name CONFIG GET renders (`slave` for replicas, as Redis does).
    pub fn as_str(self) -> &'static str {
        match self {
            ClientClass::Normal => "normal",
            ClientClass::Replica => "slave",
            ClientClass::Pubsub => "pubsub",
        }
    }
}

/// One class's `client-output-buffer-limit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ClientBufferLimit {
    /// Disconnect as soon as the output buffer exceeds this many bytes (0 = no limit).
    pub hard: u64,
    /// Disconnect when the buffer stays above this many bytes ...
    pub soft: u64,
    /// ... for this many seconds.
    pub soft_seconds: u64,
}

/// Redis's default output buffer limits, per [`ClientClass`].
pub const DEFAULT_CLIENT_BUFFER_LIMITS: [ClientBufferLimit; 3] = [
    ClientBufferLimit {
        hard: 0,
        soft: 0,
        soft_seconds: 0,
    },
    ClientBufferLimit {
        hard: 256 << 20,
        soft: 64 << 20,
        soft_seconds: 60,
    },
    ClientBufferLimit {
        hard: 32 << 20,
        soft: 8 << 20,
        soft_seconds: 60,
    },
];

/// The `notify-keyspace-events` flag set, with Redis's bit values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct KeyspaceEvents(pub u32);

impl KeyspaceEvents {
    /// `K`: publish on `__keyspace@<db>__:<key>`.
    pub const KEYSPACE: u32 = 1 << 0;
    /// `E`: publish on `__keyevent@<db>__:<event>`.
    pub const KEYEVENT: u32 = 1 << 1;
    /// `g`: generic commands (DEL, EXPIRE, RENAME, ...).
    pub const GENERIC: u32 = 1 << 2;
    /// `$`: string commands.
    pub const STRING: u32 = 1 << 3;
    /// `l`: list commands.
    pub const LIST: u32 = 1 << 4;
    /// `s`: set commands.
    pub const SET: u32 = 1 << 5;
    /// `h`: hash commands.
    pub const HASH: u32 = 1 << 6;
    /// `z`: sorted set commands.
    pub const ZSET: u32 = 1 << 7;
    /// `x`: expired events.
    pub const EXPIRED: u32 = 1 << 8;
    /// `e`: evicted events.
    pub const EVICTED: u32 = 1 << 9;
    /// `t`: stream commands.
    pub const STREAM: u32 = 1 << 10;
    /// `m`: key-miss events (not part of `A`).
    pub const KEY_MISS: u32 = 1 << 11;
    /// Module-only "loaded" events (no flag character).
    pub const LOADED: u32 = 1 << 12;
    /// `d`: module key type events.
    pub const MODULE: u32 = 1 << 13;
    /// `n`: new-key events (not part of `A`).
    pub const NEW: u32 = 1 << 14;
    /// `A`: alias for `g$lshzxetd`.
    pub const ALL: u32 = Self::GENERIC
        | Self::STRING
        | Self::LIST
        | Self::SET
        | Self::HASH
        | Self::ZSET
        | Self::EXPIRED
        | Self::EVICTED
        | Self::STREAM
        | Self::MODULE;

    /// Class characters in the order Redis renders them (when not `A`).
    const CLASSES: [(char, u32); 11] = [
        ('g', Self::GENERIC),
        ('$', Self::STRING),
        ('l', Self::LIST),
        ('s', Self::SET),
        ('h', Self::HASH),
        ('z', Self::ZSET),
        ('x', Self::EXPIRED),
        ('e', Self::EVICTED),
        ('t', Self::STREAM),
        ('d', Self::MODULE),
        ('n', Self::NEW),
    ];

    /// Redis's `keyspaceEventsStringToFlags`; `None` on an unknown character.
    pub fn parse(s: &str) -> Option<KeyspaceEvents> {
        let mut bits = 0;
        for c in s.chars() {
            bits |= match c {
                'A' => Self::ALL,
                'K' => Self::KEYSPACE,
                'E' => Self::KEYEVENT,
                'm' => Self::KEY_MISS,
                _ => Self::CLASSES.iter().find(|(ch, _)| *ch == c)?.1,
            };
        }
        Some(KeyspaceEvents(bits))
    }

    /// Whether any of `bits` is set.
    pub fn has(self, bits: u32) -> bool {
        self.0 & bits != 0
    }

    /// Whether notifications are enabled at all (some class and K or E).
    pub fn enabled(self) -> bool {
        self.0 != 0
    }
}

impl std::fmt::Display for KeyspaceEvents {
    /// Redis's `keyspaceEventsFlagsToString` (note `n` is not shown when `A`
    /// is, exactly as Redis renders it).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut s = String::new();
        if self.0 & Self::ALL == Self::ALL {
            s.push('A');
        } else {
            for (c, bit) in Self::CLASSES {
                if self.0 & bit != 0 {
                    s.push(c);
                }
            }
        }
        for (c, bit) in [('K', Self::KEYSPACE), ('E', Self::KEYEVENT), ('m', Self::KEY_MISS)] {
            if self.0 & bit != 0 {
                s.push(c);
            }
        }
        f.write_str(&s)
    }
}

/// `shutdown-on-sigint` / `shutdown-on-sigterm` flags (`default` is none).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct ShutdownFlags(pub u32);

impl ShutdownFlags {
    /// `save`: save even without save points.
    pub const SAVE: u32 = 1;
    /// `nosave`: do not save even with save points.
    pub const NOSAVE: u32 = 2;
    /// `now`: do not wait for lagging replicas.
    pub const NOW: u32 = 4;
    /// `force`: ignore errors writing the RDB/AOF.
    pub const FORCE: u32 = 8;
    /// Accepted names and their bits, in Redis's order.
    pub(crate) const ITEMS: [(&'static str, u32); 5] = [
        ("default", 0),
        ("save", Self::SAVE),
        ("nosave", Self::NOSAVE),
        ("now", Self::NOW),
        ("force", Self::FORCE),
    ];

    /// Whether `bit` is set.
    pub fn has(self, bit: u32) -> bool {
        self.0 & bit != 0
    }
}

impl std::fmt::Display for ShutdownFlags {
    /// Redis's `configEnumGetName` for bit flags: `default` when empty, else
    /// the set flags in Redis's order.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some((name, _)) = Self::ITEMS.iter().find(|(_, v)| *v == self.0) {
            return f.write_str(name);
        }
        let names: Vec<&str> = Self::ITEMS
            .iter()
            .filter(|(_, v)| *v != 0 && self.0 & v == *v)
            .map(|(n, _)| *n)
            .collect();
        f.write_str(&names.join(" "))
    }
}

/// A memory value that may instead be a percentage (`maxmemory-clients`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MemoryOrPercent {
    /// An absolute number of bytes (0 = no limit).
    Bytes(u64),
    /// A percentage of `maxmemory`.
    Percent(u64),
}

impl Default for MemoryOrPercent {
    fn default() -> Self {
        MemoryOrPercent::Bytes(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enum_names() {
        assert_eq!(MaxmemoryPolicy::parse("ALLKEYS-LRU"), Some(MaxmemoryPolicy::AllkeysLru));
        assert_eq!(MaxmemoryPolicy::default().as_str(), "noeviction");
        assert!(MaxmemoryPolicy::VolatileLfu.is_lfu() && MaxmemoryPolicy::VolatileLfu.is_volatile());
        assert!(!MaxmemoryPolicy::AllkeysLru.is_lfu());
        assert_eq!(OomScoreAdj::parse("relative").map(OomScoreAdj::as_str), Some("yes"));
        assert_eq!(LogLevel::parse("nothing"), None);
        assert!(ProtectedAction::Local.allows(true) && !ProtectedAction::Local.allows(false));
        assert!(ProtectedAction::Yes.allows(false) && !ProtectedAction::No.allows(true));
    }

    #[test]
    fn keyspace_events_render_like_redis() {
        // Observed on redis-server 7.0.15: input -> CONFIG GET.
        for (input, want) in [
            ("A", "A"),
            ("AKE", "AKE"),
            ("AKEmn", "AKEm"),
            ("KEn", "nKE"),
            ("g$lshzxetd", "A"),
            ("KEg$lshzxetdn", "AKE"),
            ("Kn", "nK"),
            ("KEd", "dKE"),
            ("Ex", "xE"),
            ("", ""),
            ("KA", "AK"),
            ("Kmn", "nKm"),
            ("Kt", "tK"),
            ("ntexzhsl$g", "g$lshzxetn"),
            ("ndexzhsl$g", "g$lshzxedn"),
            ("mEKn", "nKEm"),
            ("gg", "g"),
        ] {
            let ev = KeyspaceEvents::parse(input).expect(input);
            assert_eq!(ev.to_string(), want, "{input}");
        }
        assert_eq!(KeyspaceEvents::parse("Q"), None);
        assert_eq!(KeyspaceEvents::parse("a"), None, "flags are case-sensitive");
    }

    #[test]
    fn shutdown_flags_render_like_redis() {
        assert_eq!(ShutdownFlags(0).to_string(), "default");
        assert_eq!(
            ShutdownFlags(ShutdownFlags::SAVE | ShutdownFlags::NOW).to_string(),
            "save now"
        );
        assert_eq!(
            ShutdownFlags(ShutdownFlags::FORCE | ShutdownFlags::NOSAVE).to_string(),
            "nosave force"
        );
    }
}
