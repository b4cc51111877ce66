package io.msm.config;

/** Legal but doubtful combinations of attributes: each warning names the values involved and what msm does. */
final class Warnings {

    private Warnings() {
    }

    /** Adds the warnings of a reading without problems. */
    static void add(Reading r) {
        boolean sticky = r.value(Attributes.STICKY);
        boolean async = r.value(Attributes.SESSION_BACKUP_ASYNC);
        int operationTimeout = r.value(Attributes.OPERATION_TIMEOUT);
        int backupTimeout = r.value(Attributes.SESSION_BACKUP_TIMEOUT);
        int minBackupInterval = r.value(Attributes.MIN_BACKUP_INTERVAL);
        // lockingMode="none" is what sticky mode does anyway: nothing to warn about
        if (sticky && (r.value(Attributes.LOCKING_MODE).mode != LockingMode.NONE
                || r.text(MsmConfig.LOCK_EXPIRATION) != null || r.text(MsmConfig.LOCK_FAILURE) != null)) {
            r.warn(MsmConfig.LOCKING_MODE + "/" + MsmConfig.LOCK_EXPIRATION + "/" + MsmConfig.LOCK_FAILURE
                    + " only apply with sticky=\"false\"; ignored in sticky mode");
        }
        if (!async && backupTimeout > operationTimeout) {
            r.warn(MsmConfig.SESSION_BACKUP_TIMEOUT + "=\"" + backupTimeout + "\" is above " + MsmConfig.OPERATION_TIMEOUT
                    + "=\"" + operationTimeout + "\"; a request may wait up to " + backupTimeout + " ms for its backup");
        }
        if ((!sticky || !async) && minBackupInterval > 0 && r.text(MsmConfig.MIN_BACKUP_INTERVAL) != null) {
            r.warn(MsmConfig.MIN_BACKUP_INTERVAL + "=\"" + minBackupInterval + "\" only applies to sticky sessions with "
                    + MsmConfig.SESSION_BACKUP_ASYNC + "=\"true\"; ignored");
        }
        if (sticky && r.text(MsmConfig.IDLE_SESSION_CACHE) != null) {
            r.warn(MsmConfig.IDLE_SESSION_CACHE + " only applies with sticky=\"false\"; ignored in sticky mode (every"
                    + " session stays in this Tomcat's memory)");
        }
        if (r.value(Attributes.LEGACY_SESSIONS) != LegacySessions.OFF
                && r.value(Attributes.SESSION_PROTECTION) != SessionProtection.NONE) {
            r.warn(MsmConfig.LEGACY_SESSIONS + "=\"" + r.text(MsmConfig.LEGACY_SESSIONS) + "\" with "
                    + MsmConfig.SESSION_PROTECTION + "=\"" + r.text(MsmConfig.SESSION_PROTECTION) + "\": sessions "
                    + "memcached-session-manager stored are read although they are neither signed nor encrypted "
                    + "(whoever can write to memcached can log in as anyone through them); set "
                    + MsmConfig.LEGACY_SESSIONS + "=\"off\" once the switch is over");
        }
        if (async && r.text(MsmConfig.SESSION_BACKUP_TIMEOUT) != null) {
            r.warn(MsmConfig.SESSION_BACKUP_TIMEOUT + " only applies with " + MsmConfig.SESSION_BACKUP_ASYNC
                    + "=\"false\"; asynchronous backups wait up to " + MsmConfig.OPERATION_TIMEOUT + "=\""
                    + operationTimeout + "\" on the backup threads");
        }
    }
}
