/** Implementation details; not API. */
package io.msm.internal;
