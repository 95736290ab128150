// Country pickers (deals/admin/countries.py): the admin's bundled select2 on every select marked
// data-country-picker, so an editor types part of a name instead of scrolling a list of 250 countries.
'use strict';
{
    const $ = django.jQuery;

    function initCountryPickers(root) {
        $(root).find('select[data-country-picker]').not('.select2-hidden-accessible').each(function () {
            $(this).select2({
                width: '30em',
                allowClear: !this.required,
                placeholder: this.dataset.placeholder || '',
            });
        });
    }

    $(function () {
        initCountryPickers(document);
    });
}
