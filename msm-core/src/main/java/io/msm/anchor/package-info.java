/**
 * Sessions as memcached-session-manager 2.x stored them in memcached (the manager msm replaces), for a switch without
 * logging anyone out: its session blob ({@link io.msm.anchor.AnchorBlob}) and its non-sticky validity record
 * ({@link io.msm.anchor.AnchorValidity}), parsed with every length checked. Not wired into the engine yet.
 */
package io.msm.anchor;
